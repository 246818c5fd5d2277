# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Ground truth from captures, taken with tshark, and the comparison with
netprof's flows. Used by tests/replay/vs_tshark.py and the netns rigs.

tshark dissects every frame; the numbers are summed here per IP address pair
and per TCP/UDP conversation direction (the transport header must follow the
outer IP header directly: tunnels' inner headers are not flows netprof sees).
tshark's `-z conv` tables carry the same numbers but print large byte
counts rounded to kB, so its exact frame counts are only cross-checked.
Bytes are tshark's frame.len: what the capture records for the frame on the
wire, with its own link header (Linux cooked, BSD loopback...), and whole
when the capture's snaplen cut it.
"""
import collections
import ipaddress
import re
import subprocess

FIELDS = ["frame.len", "frame.protocols", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst",
          "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport",
          "ip.flags.mf", "ip.frag_offset", "ipv6.fraghdr.offset",
          "tcp.flags.syn", "tcp.flags.ack"]


def tshark(path, *args):
    """tshark's output; of a file cut short, what it read before the damage."""
    r = subprocess.run(["tshark", "-r", path, "-n"] + list(args), capture_output=True, text=True)
    if r.returncode and "cut short" not in r.stderr:
        raise subprocess.CalledProcessError(r.returncode, r.args, r.stdout, r.stderr)
    return r.stdout


def tshark_frames(path):
    out = tshark(path, "-T", "fields", "-E", "occurrence=f", "-E", "separator=\t",
                 *sum((["-e", f] for f in FIELDS), []))
    for line in out.splitlines():
        yield dict(zip(FIELDS, line.split("\t")))


def norm(addr):
    return str(ipaddress.ip_address(addr))


def expected(path):
    pairs = collections.Counter()         # (a, b) sorted -> [pkts, bytes]
    pair_bytes = collections.Counter()
    convs = collections.Counter()         # (proto, src, sport, dst, dport) -> pkts
    conv_bytes = collections.Counter()
    frag_pairs = set()
    clients = {}                          # sorted TCP endpoints -> (addr, port) that sent SYN without ACK
    for f in tshark_frames(path):
        protos = f["frame.protocols"].split(":")
        outer = next((i for i, p in enumerate(protos) if p in ("ip", "ipv6")), None)
        if outer is None:
            continue
        v6 = protos[outer] == "ipv6"
        src = f["ipv6.src" if v6 else "ip.src"]
        dst = f["ipv6.dst" if v6 else "ip.dst"]
        if not src or not dst:
            continue
        src, dst = norm(src), norm(dst)
        length = int(f["frame.len"])     # the capture's length: link header and all, uncut
        key = tuple(sorted((src, dst)))
        pairs[key] += 1
        pair_bytes[key] += length
        if (not v6 and (f["ip.flags.mf"] in ("1", "True") or f["ip.frag_offset"] not in ("", "0"))) or \
           (v6 and f["ipv6.fraghdr.offset"] != ""):
            frag_pairs.add(key)
        nxt = outer + 1
        while nxt < len(protos) and protos[nxt].startswith("ipv6."):
            nxt += 1                      # extension headers
        l4 = protos[nxt] if nxt < len(protos) else ""
        if l4 in ("tcp", "udp") and f[l4 + ".srcport"]:
            c = (l4, src, int(f[l4 + ".srcport"]), dst, int(f[l4 + ".dstport"]))
            convs[c] += 1
            conv_bytes[c] += length
            if l4 == "tcp" and f["tcp.flags.syn"] in ("1", "True") and f["tcp.flags.ack"] in ("0", "False"):
                ends = tuple(sorted(((src, c[2]), (dst, c[4]))))
                clients.setdefault(ends, (src, c[2]))
    expected.clients = clients
    return pairs, pair_bytes, convs, conv_bytes, frag_pairs


def conv_table_frames(path):
    """-z conv,tcp/udp: {(proto, a, aport, b, bport): (frames b->a, frames a->b)}"""
    out = tshark(path, "-q", "-z", "conv,tcp", "-z", "conv,udp")
    res, proto = {}, None
    for line in out.splitlines():
        if line.startswith("TCP Conversations"):
            proto = "tcp"
        elif line.startswith("UDP Conversations"):
            proto = "udp"
        m = re.match(r"(\S+):(\d+)\s+<->\s+(\S+):(\d+)\s+(\d+)\s+\S+ \S+\s+(\d+)\s", line)
        if m and proto:
            a, ap, b, bp, ba, ab = m.groups()
            res[(proto, norm(a), int(ap), norm(b), int(bp))] = (int(ba), int(ab))
    return res



def compare(path, flows, only_addrs=None):
    """Compare netprof flows (the "flows" list of --json) with the capture.
    only_addrs: if set, keep only traffic whose both addresses are in it.
    Returns (errors, n_pairs, n_directions)."""
    errors = []
    pairs, pair_bytes, convs, conv_bytes, frag_pairs = expected(path)
    keep = (lambda a, b: a in only_addrs and b in only_addrs) if only_addrs else (lambda a, b: True)

    got_pairs, got_pair_bytes = collections.Counter(), collections.Counter()
    got_convs, got_conv_bytes = collections.Counter(), collections.Counter()
    for fl in flows:
        if not keep(fl["src"], fl["dst"]):
            continue
        key = tuple(sorted((fl["src"], fl["dst"])))
        got_pairs[key] += fl["packets"]
        got_pair_bytes[key] += fl["bytes"]
        if fl["proto"] in ("tcp", "udp") and key not in frag_pairs:
            fwd = (fl["proto"], fl["src"], fl["src_port"], fl["dst"], fl["dst_port"])
            rev = (fl["proto"], fl["dst"], fl["dst_port"], fl["src"], fl["src_port"])
            for c, p, b in ((fwd, fl["packets_fwd"], fl["bytes_fwd"]),
                            (rev, fl["packets_rev"], fl["bytes_rev"])):
                if p:
                    got_convs[c] += p
                    got_conv_bytes[c] += b

    # SOURCE is the side that started the flow: for TCP, the SYN's sender
    for fl in flows:
        if fl["proto"] != "tcp" or not keep(fl["src"], fl["dst"]):
            continue
        ends = tuple(sorted(((fl["src"], fl["src_port"]), (fl["dst"], fl["dst_port"]))))
        client = expected.clients.get(ends)
        if client and client != (fl["src"], fl["src_port"]):
            errors.append(f"tcp {ends}: netprof names {fl['src']}:{fl['src_port']} the source, "
                          f"the capture's SYN came from {client[0]}:{client[1]}")

    pairs = {k: v for k, v in pairs.items() if keep(*k)}
    for k in set(pairs) | set(got_pairs):
        if (pairs.get(k, 0), pair_bytes[k]) != (got_pairs[k], got_pair_bytes[k]):
            errors.append(f"pair {k}: capture {pairs.get(k, 0)} pkts {pair_bytes[k]} B, "
                          f"netprof {got_pairs[k]} pkts {got_pair_bytes[k]} B")
    want = {c: n for c, n in convs.items()
            if tuple(sorted((c[1], c[3]))) not in frag_pairs and keep(c[1], c[3])}
    for c in set(want) | set(got_convs):
        if c not in want:
            errors.append(f"invented flow direction {c}: netprof {got_convs[c]} pkts")
        elif (want[c], conv_bytes[c]) != (got_convs[c], got_conv_bytes[c]):
            errors.append(f"{c}: capture {want[c]} pkts {conv_bytes[c]} B, "
                          f"netprof {got_convs[c]} pkts {got_conv_bytes[c]} B")
    # tshark's own conversation table agrees with the per-frame sums
    # (inner conversations of tunnels are in the table but are not outer flows)
    for (proto, a, ap, b, bp), (ba, ab) in conv_table_frames(path).items():
        if (proto, a, ap, b, bp) not in convs and (proto, b, bp, a, ap) not in convs:
            continue
        if (convs[(proto, a, ap, b, bp)], convs[(proto, b, bp, a, ap)]) != (ab, ba):
            errors.append(f"-z conv,{proto} {a}:{ap}<->{b}:{bp} frames differ from per-frame sums")
    return errors, len(pairs), len(want)
