#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Write netprof's man pages from the programs' own --help, so the two
cannot disagree (tests/netns/test_install.sh checks that every option the
code accepts is in both).

  man.py OUTDIR NETPROFD NETPROF

One page per program and per command, section 8 (they need root):
netprofd(8), netprof(8), netprof-flows(8), ... The --help text becomes
SYNOPSIS (its Usage lines), DESCRIPTION, OPTIONS (one entry per option
line, continuation lines joined) and NOTES; SEE ALSO points to the other
pages and the command's page in /usr/share/doc/netprof.
"""
import os
import re
import subprocess
import sys

DOCS = {"netprofd": "netprofd.md", "netprof": "overview.md", "flows": "flows-command.md",
        "sockets": "sockets-command.md", "map": "map-command.md",
        "latency": "latency-command.md", "profile": "profile-command.md",
        "top": "top-command.md", "status": "status.md", "capture": "capture-command.md",
        "replay": "replay.md"}
OPT = re.compile(r"^\s{1,6}(-[^\s].*?)(?:\s{2,}(.*))?$")


def esc(s):
    return s.replace("\\", "\\e").replace("-", "\\-").replace("'", "\\(aq")


def line_esc(s):
    s = esc(s)
    return "\\&" + s if s.startswith(".") else s


def page(name, title, summary, help_text, commands):
    lines = help_text.rstrip("\n").split("\n")
    usage, i = [], 0
    while i < len(lines) and (lines[i].startswith("Usage:") or (usage and lines[i].startswith(" ")
                                                              and not lines[i].lstrip().startswith("-"))):
        usage.append(lines[i].replace("Usage:", "").strip())
        i += 1
    desc, opts, notes = [], [], []
    section = "desc"
    for l in lines[i:]:
        m = OPT.match(l)
        if m and section != "commands":
            section = "opts"
            opts.append([m.group(1).strip(), (m.group(2) or "").strip()])
        elif section == "opts" and l.startswith("      ") and l.strip() and opts:
            opts[-1][1] = (opts[-1][1] + " " + l.strip()).strip()
        elif l.strip() == "Commands:":
            section = "commands"
        elif section == "commands" and l.startswith("  ") and l.strip():
            continue
        elif l.strip().endswith(":") and not l.startswith(" ") and section in ("commands", "opts"):
            section = "opts"     # "Global options:"
        elif section == "desc":
            desc.append(l)
        else:
            if l.strip() or notes:
                notes.append(l)
    out = [f'.TH {title.upper()} 8 "" "netprof" "netprof manual"',
           ".SH NAME", f"{esc(title)} \\- {esc(summary)}", ".SH SYNOPSIS", ".nf"]
    out += [line_esc(u) for u in usage] + [".fi", ".SH DESCRIPTION"]
    para = [l.strip() for l in desc]
    out += [line_esc(l) if l else ".PP" for l in para]
    if commands:
        out.append(".SH COMMANDS")
        for cmd, what in commands:
            out += [".TP", f"\\fB{cmd}\\fR", line_esc(what) + f" (see \\fBnetprof\\-{cmd}\\fR(8))"]
    if opts:
        out.append(".SH OPTIONS")
        for o, d in opts:
            out += [".TP", f"\\fB{esc(o)}\\fR", line_esc(d)]
    while notes and not notes[-1].strip():
        notes.pop()
    if notes:
        out += [".SH NOTES"] + [line_esc(l.strip()) if l.strip() else ".PP" for l in notes]
    others = ["netprofd", "netprof"] + [f"netprof-{c}" for c, _ in all_commands]
    out += [".SH SEE ALSO", ", ".join(f"\\fB{esc(o)}\\fR(8)" for o in others if o != title) + ",",
            f"/usr/share/doc/netprof/{DOCS.get(name, 'README.md')}"]
    return "\n".join(out) + "\n"


def run(*args):
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


if __name__ == "__main__":
    outdir, netprofd, netprof = sys.argv[1:4]
    os.makedirs(outdir, exist_ok=True)
    top = run(netprof, "--help")
    all_commands = []
    in_cmds = False
    for l in top.split("\n"):
        if l.strip() == "Commands:":
            in_cmds = True
        elif in_cmds and l.startswith("  ") and l.strip():
            c, what = l.strip().split(None, 1)
            all_commands.append((c, what))
        elif in_cmds:
            in_cmds = False
    pages = {
        "netprofd": page("netprofd", "netprofd", "load, attach and pin netprof's BPF programs",
                         run(netprofd, "--help"), None),
        "netprof": page("netprof", "netprof", "eBPF network observability: flows, sockets, "
                        "service map, latency, CPU profiles", top, all_commands),
    }
    for c, what in all_commands:
        pages[f"netprof-{c}"] = page(c, f"netprof-{c}", what, run(netprof, c, "--help"), None)
    for name, text in pages.items():
        with open(os.path.join(outdir, f"{name}.8"), "w") as f:
            f.write(text)
