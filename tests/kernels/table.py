#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The kernel matrix's tables for docs/kernels.md, from what each kernel's
run left (tests/kernels/probe.sh: probe.txt, status.json, kernel.txt).

    table.py DOC NAME=DIR...

replaces what stands between the markers in DOC."""
import json
import os
import sys

BEGIN, END = "<!-- tests/kernels.sh: begin -->", "<!-- tests/kernels.sh: end -->"


def load(d):
    progs, caps, kver = {}, {}, "?"
    try:
        for line in open(os.path.join(d, "probe.txt")):
            f = line.split(None, 3)
            if len(f) >= 3:
                progs[(f[0], f[1])] = (f[2], f[3].strip() if len(f) > 3 else "")
    except OSError:
        pass
    try:
        caps = json.load(open(os.path.join(d, "status.json")))["capabilities"] or {}
    except (OSError, ValueError, KeyError):
        pass
    try:
        kver = open(os.path.join(d, "kernel.txt")).readline().split(":", 1)[1].strip()
    except (OSError, IndexError):
        pass
    return progs, caps, kver


def cell(s):
    return s.replace("|", "\\|")


def main():
    doc, runs = sys.argv[1], [a.split("=", 1) for a in sys.argv[2:]]
    data = [(name,) + load(d) for name, d in runs]
    out = []
    out.append("Kernels: " + ", ".join(f"{n} = {k}" for n, _, _, k in data) + ".\n")
    out.append("### Capabilities (netprofd's default start, `netprof status --json`)\n")
    out.append("| capability | " + " | ".join(n for n, *_ in data) + " |")
    out.append("|---|" + "---|" * len(data))
    names = []
    for _, _, caps, _ in data:
        names += [c for c in caps if c not in names]
    for c in names:
        row = []
        for _, _, caps, _ in data:
            x = caps.get(c)
            row.append(cell(x["state"] + (f": {x['why']}" if x["why"] else "")) if x else "-")
        out.append(f"| {c} | " + " | ".join(row) + " |")
    out.append("\n### Programs, each tried alone (`netprofd --probe`)\n")
    out.append("| object | program | " + " | ".join(n for n, *_ in data) + " |")
    out.append("|---|---|" + "---|" * len(data))
    keys = []
    for _, progs, _, _ in data:
        keys += [k for k in progs if k not in keys]
    for k in keys:
        row = []
        for _, progs, _, _ in data:
            v = progs.get(k)
            if not v:
                row.append("-")
            elif v[0] == "loads":
                row.append("loads")
            else:
                row.append(cell(f"{v[0] if v[0] != 'optional' else 'not loaded'}: {v[1]}"))
        out.append(f"| {k[0]} | {k[1]} | " + " | ".join(row) + " |")
    text = open(doc).read()
    if BEGIN not in text or END not in text:
        sys.exit(f"table.py: {doc} has no {BEGIN} ... {END} markers")
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    open(doc, "w").write(head + BEGIN + "\n" + "\n".join(out) + "\n" + END + tail)


if __name__ == "__main__":
    main()
