#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Replay every capture in ../shared/pcaps through netprof's datapath
(`netprof replay --json`) and compare per-flow packet and byte counts with
tshark's view of the same file (tests/lib/truth.py says how).

Checks, per capture:
  1. per IP address pair: packets and bytes over all protocols (this covers
     ICMP, tunnels' outer headers, other protocols and IP fragments);
  2. per TCP/UDP conversation, per direction: packets and bytes, except for
     address pairs that carry IP fragments (tshark reassembles them, netprof
     counts each fragment in its datagram's flow; check 1 covers them);
  3. no TCP/UDP flow that tshark does not have (nothing invented);
  4. -z conv,tcp / conv,udp frame counts equal the per-frame sums.

Usage: vs_tshark.py NETPROF PCAP_DIR [NAME,...]

Bytes are tshark's frame.len for every link type, and for frames the
capture's snaplen cut (a copy of two captures cut to 96 bytes with editcap
is checked too).
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import truth  # noqa: E402


class KernelLimit(Exception):
    """netprof replay said this kernel cannot run some frames (named, not counted)"""


def netprof_flows(netprof, path):
    out = subprocess.run([netprof, "replay", "--json", "-n", "0", path],
                         capture_output=True, text=True)
    if out.returncode and "longer than this kernel's XDP test runs take" in out.stderr:
        raise KernelLimit(out.stderr.strip().split("netprof: ", 1)[-1][:200])
    if out.returncode:
        raise RuntimeError(f"netprof replay failed: {out.stderr.strip()[:300]}")
    return json.loads(out.stdout)["flows"]


def main():
    netprof, pcap_dir = sys.argv[1], sys.argv[2]
    # a third argument: only these captures (comma-separated), the top-N check left out
    only = sys.argv[3].split(",") if len(sys.argv) > 3 else None
    passed = failed = skipped = 0
    names = sorted(n for n in os.listdir(pcap_dir) if n.endswith((".pcap", ".pcapng")) and
                   (only is None or n in only))
    if not names:
        print(f"FAIL replay: no captures in {pcap_dir}")
        failed += 1

    def replay_one(label, path):
        """netprof replay of path against tshark: 'ok', 'skip' or 'fail', said in one line"""
        try:
            errors, npairs, nconv = truth.compare(path, netprof_flows(netprof, path))
        except KernelLimit as e:
            print(f"skip replay {label}: {e}")
            return "skip"
        except subprocess.CalledProcessError as e:  # a crash is a failure, never a skip
            errors, nconv, npairs = [f"error: {e.cmd[0]}: {e.stderr.strip()[:300]}"], 0, 0
        except Exception as e:
            errors, nconv, npairs = [f"error: {e}"], 0, 0
        if errors:
            print(f"FAIL replay {label}")
            for e in errors[:10]:
                print(f"  {e}")
            return "fail"
        print(f"ok   replay {label} ({npairs} address pairs, {nconv} tcp/udp directions)")
        return "ok"

    results = [replay_one(name, os.path.join(pcap_dir, name)) for name in names]
    # a capture cut short in its last record: replay shows every frame before
    # the damage (as tshark does), says what is wrong in one line, exits 1
    whole = os.path.join(pcap_dir, "tcpdump-ssh.pcap")
    if os.path.exists(whole) and only is None:
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            cut = os.path.join(tmp, "cut-short.pcap")
            data = open(whole, "rb").read()
            open(cut, "wb").write(data[:-30])
            r = subprocess.run([netprof, "replay", "--json", "-n", "0", cut], capture_output=True, text=True)
            errs = []
            if r.returncode != 1 or len(r.stderr.splitlines()) != 1 or "unreadable" not in r.stderr:
                errs.append(f"exit {r.returncode}, stderr {r.stderr.strip()[:200]!r}")
            else:
                e, npairs, nconv = truth.compare(cut, json.loads(r.stdout)["flows"])
                errs += e
            if errs:
                failed += 1
                print("FAIL replay of a capture cut short")
                for e in errs[:10]:
                    print(f"  {e}")
            else:
                passed += 1
                print(f"ok   replay of a capture cut short: the frames before the damage as tshark reads them ({nconv} tcp/udp directions), exit 1")
    # frames cut by the snaplen count their wire length, as tshark does
    for src in ("pcpp-http-packets.pcap", "tcpdump-mptcp-v1.pcap"):
        whole = os.path.join(pcap_dir, src)
        if not os.path.exists(whole) or only is not None:
            continue
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            cut = os.path.join(tmp, "snap96-" + src)
            subprocess.run(["editcap", "-s", "96", whole, cut], check=True, capture_output=True)
            results.append(replay_one(f"{src} cut to 96 bytes (wire lengths)", cut))
    passed += results.count("ok")
    failed += results.count("fail")
    skipped += results.count("skip")
    # -n N selects the top N without sorting everything: same flows, same order
    big = os.path.join(pcap_dir, "pcpp-many-protocols.pcap")
    if os.path.exists(big) and only is None:
        errs = []
        for key in ("bytes", "packets"):
            for n in (1, 5, 40):
                full = [f[key] for f in json.loads(subprocess.run(
                    [netprof, "replay", "--json", "-n", "0", "-s", key, big],
                    capture_output=True, text=True, check=True).stdout)["flows"]]
                top = [f[key] for f in json.loads(subprocess.run(
                    [netprof, "replay", "--json", "-n", str(n), "-s", key, big],
                    capture_output=True, text=True, check=True).stdout)["flows"]]
                if full != sorted(full, reverse=True) or top != full[:n]:
                    errs.append(f"--sort {key} -n {n}: {top[:5]} vs {full[:5]}")
        if errs:
            failed += 1
            print("FAIL replay top-N selection")
            for e in errs:
                print(f"  {e}")
        else:
            passed += 1
            print("ok   replay top-N selection equals the full sort")
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
