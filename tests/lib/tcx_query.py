#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The programs attached to a device's tcx hooks, as the kernel lists them.

Debian 12's bpftool (7.1) shows tcx links without their device, and
`tc filter show` does not see them; BPF_PROG_QUERY on the ifindex does
(6.6+). Prints {"ingress": [prog ids], "egress": [prog ids]} for DEV in the
caller's network namespace; on a kernel without tcx, {"tcx": false}.

Usage: tcx_query.py DEV
"""
import ctypes
import errno
import json
import socket
import sys

SYS_BPF = 321                   # x86_64
BPF_PROG_QUERY = 16
BPF_TCX_INGRESS, BPF_TCX_EGRESS = 46, 47


class QueryAttr(ctypes.Structure):
    # union bpf_attr, the BPF_PROG_QUERY member (up to prog_cnt)
    _fields_ = [("target", ctypes.c_uint32), ("attach_type", ctypes.c_uint32),
                ("query_flags", ctypes.c_uint32), ("attach_flags", ctypes.c_uint32),
                ("prog_ids", ctypes.c_uint64), ("prog_cnt", ctypes.c_uint32),
                ("pad", ctypes.c_uint32), ("rest", ctypes.c_uint64 * 8)]


def query(ifindex, attach_type):
    libc = ctypes.CDLL(None, use_errno=True)
    ids = (ctypes.c_uint32 * 64)()
    attr = QueryAttr(target=ifindex, attach_type=attach_type,
                     prog_ids=ctypes.addressof(ids), prog_cnt=64)
    if libc.syscall(SYS_BPF, BPF_PROG_QUERY, ctypes.byref(attr), ctypes.sizeof(attr)) < 0:
        err = ctypes.get_errno()
        if err == errno.EINVAL:
            return None
        sys.exit(f"tcx_query: BPF_PROG_QUERY on ifindex {ifindex}: {errno.errorcode.get(err, err)}")
    return list(ids[:attr.prog_cnt])


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: tcx_query.py DEV")
    try:
        ifindex = socket.if_nametoindex(sys.argv[1])
    except OSError:
        sys.exit(f"tcx_query: no device {sys.argv[1]} in this namespace")
    ing, eg = query(ifindex, BPF_TCX_INGRESS), query(ifindex, BPF_TCX_EGRESS)
    if ing is None or eg is None:
        print(json.dumps({"tcx": False}))
    else:
        print(json.dumps({"tcx": True, "ingress": ing, "egress": eg}))


main()
