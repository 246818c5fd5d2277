#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# `make demo`: a client and a server in two network namespaces, netprofd
# following both, some real traffic, then `netprof flows` and `netprof
# status`. Everything is removed at the end.
#
#   netns $P-c  10.200.0.1 --veth-- 10.200.0.2  netns $P-s
#   curl, ping, iperf3                          python3 http.server, iperf3 -s

. "$(dirname "$0")/netns/lib.sh"

if [ "$(id -u)" != 0 ]; then
	echo "netprof: the demo loads BPF programs and builds namespaces: run 'make demo' as root" >&2
	exit 1
fi
mount_bpffs
set -e
echo "demo: building a client/server rig in namespaces $P-c and $P-s"
veth_pair "$P-c" cli 10.200.0.1 "$P-s" srv 10.200.0.2 fd00:200::1 fd00:200::2
start_bg "$P-s" python3 -m http.server 8080 --bind ::
start_bg "$P-s" iperf3 -s -p 5201
wait_port "$P-s" 8080
wait_port "$P-s" 5201
start_netprofd "$WORK/netprofd.log" --netns "$P-c" --netns "$P-s"
sed 's/^/  /' "$WORK/netprofd.log"

echo "demo: traffic: 3 HTTP requests (IPv4 and IPv6), pings, 1 s of iperf3 TCP and UDP"
for i in 1 2; do ip netns exec "$P-c" curl -sf -o /dev/null http://10.200.0.2:8080/; done
ip netns exec "$P-c" curl -sf -g -o /dev/null "http://[fd00:200::2]:8080/"
ip netns exec "$P-c" ping -q -c 3 -i 0.2 10.200.0.2 >/dev/null
ip netns exec "$P-c" ping -q -6 -c 3 -i 0.2 fd00:200::2 >/dev/null
ip netns exec "$P-c" iperf3 -c 10.200.0.2 -t 1 -b 200M >/dev/null
ip netns exec "$P-c" iperf3 -c 10.200.0.2 -u -t 1 -b 5M >/dev/null
sleep 0.3

echo
echo "\$ netprof flows -i srv        # the server's side of every conversation"
"$NETPROF" flows -i srv
echo
echo "\$ netprof flows 'tcp port 8080' -i cli"
"$NETPROF" flows -i cli 'tcp port 8080'
echo
echo "\$ netprof status"
"$NETPROF" status
stop_netprofd
echo
echo "demo: done; namespaces, pins and servers are removed"
