// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Following interfaces with rtnetlink (libmnl): one socket per followed
 * namespace, subscribed to RTMGRP_LINK, created inside that namespace so
 * it hears that namespace's links. A dump at start-up finds what exists.
 */
#include <errno.h>
#include <string.h>
#include <stdio.h>
#include <time.h>
#include <net/if.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>
#include "log.h"
#include "netprofd.h"

static int linkinfo_attr_cb(const struct nlattr *attr, void *data)
{
	struct np_link *l = data;

	if (mnl_attr_get_type(attr) == IFLA_INFO_KIND &&
	    mnl_attr_validate(attr, MNL_TYPE_STRING) == 0)
		snprintf(l->kind, sizeof(l->kind), "%.*s",
			 (int)strnlen(mnl_attr_get_str(attr), mnl_attr_get_payload_len(attr)),
			 mnl_attr_get_str(attr));
	return MNL_CB_OK;
}

static int link_attr_cb(const struct nlattr *attr, void *data)
{
	struct np_link *l = data;

	switch (mnl_attr_get_type(attr)) {
	case IFLA_IFNAME:
		if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
			l->name = mnl_attr_get_str(attr);
		break;
	case IFLA_LINKINFO:
		if (mnl_attr_validate(attr, MNL_TYPE_NESTED) == 0)
			mnl_attr_parse_nested(attr, linkinfo_attr_cb, l);
		break;
	case IFLA_LINK:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0 && l->link_local >= 0)
			l->link_local = (int)mnl_attr_get_u32(attr);
		break;
	case IFLA_LINK_NETNSID:
		/* the link is in another namespace: its ifindex means nothing here */
		l->link_local = -1;
		break;
	}
	return MNL_CB_OK;
}

struct cb_ctx {
	struct np_daemon	*d;
	struct np_netns		*ns;
};

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	struct cb_ctx *c = data;
	struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	struct np_link lm = { .ifindex = ifm->ifi_index, .loopback = !!(ifm->ifi_flags & IFF_LOOPBACK) };
	struct np_iface *ifc;

	mnl_attr_parse(nlh, sizeof(*ifm), link_attr_cb, &lm);
	if (lm.link_local < 0 || lm.link_local == lm.ifindex)
		lm.link_local = 0;
	ifc = iface__find(c->ns, lm.ifindex);

	if (nlh->nlmsg_type == RTM_DELLINK) {
		if (ifc) {
			pr_info("%s (netns %s) disappeared\n", ifc->name,
				c->ns->name[0] ? c->ns->name : "(own)");
			iface__detach(c->d, c->ns, ifc, IFACE_GONE);
		}
		return MNL_CB_OK;
	}
	if (nlh->nlmsg_type != RTM_NEWLINK || !lm.name)
		return MNL_CB_OK;
	if (ifc) {
		/* a rename (e.g. `ip link set X netns NS name Y` arrives as two events) */
		if (strcmp(ifc->name, lm.name)) {
			if (iface__wanted(c->d, lm.name))
				iface__rename(c->d, c->ns, ifc, lm.name);
			else
				iface__detach(c->d, c->ns, ifc, IFACE_DETACH);
		}
		return MNL_CB_OK;
	}
	if (!iface__wanted(c->d, lm.name))
		return MNL_CB_OK;
	iface__attach(c->d, c->ns, &lm);
	return MNL_CB_OK;
}

static struct mnl_socket *rtnl_socket_in(struct np_daemon *d, struct np_netns *ns,
					 unsigned int groups)
{
	struct mnl_socket *nl;
	int err;

	err = netns_enter(d, ns);
	if (err) {
		errno = -err;
		return NULL;
	}
	nl = mnl_socket_open(NETLINK_ROUTE);
	if (nl && mnl_socket_bind(nl, groups, MNL_SOCKET_AUTOPID) < 0) {
		err = errno;
		mnl_socket_close(nl);
		nl = NULL;
		errno = err;
	}
	netns_leave(d);
	return nl;
}

int rtnl__open(struct np_daemon *d, struct np_netns *ns)
{
	ns->nl = rtnl_socket_in(d, ns, RTMGRP_LINK);
	return ns->nl ? 0 : -errno;
}

int rtnl__dump_links(struct np_daemon *d, struct np_netns *ns)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct cb_ctx c = { .d = d, .ns = ns };
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct rtgenmsg *rt;
	unsigned int seq = time(NULL), portid;
	int ret, err = 0;

	nl = rtnl_socket_in(d, ns, 0);
	if (!nl)
		return -errno;
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	rt = mnl_nlmsg_put_extra_header(nlh, sizeof(*rt));
	rt->rtgen_family = AF_PACKET;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		err = -errno;
		goto out;
	}
	while ((ret = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		ret = mnl_cb_run(buf, ret, seq, portid, link_cb, &c);
		if (ret <= MNL_CB_STOP)
			break;
	}
	if (ret < 0)
		err = -errno;
out:
	mnl_socket_close(nl);
	return err;
}

int rtnl__process(struct np_daemon *d, struct np_netns *ns)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct cb_ctx c = { .d = d, .ns = ns };
	int ret;

	ret = mnl_socket_recvfrom(ns->nl, buf, sizeof(buf));
	if (ret < 0) {
		if (errno == ENOBUFS) {
			/* we missed events: the dump tells the whole truth again */
			pr_warn("rtnetlink overrun in netns %s; re-reading links\n",
				ns->name[0] ? ns->name : "(own)");
			return rtnl__dump_links(d, ns);
		}
		return -errno;
	}
	ret = mnl_cb_run(buf, ret, 0, 0, link_cb, &c);
	return ret < 0 ? -errno : 0;
}
