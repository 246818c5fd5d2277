#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""flowcheck.py CAPTURE FLOWS_JSON [ADDR...]: compare `netprof flows --json`
output with a capture of the same interface (tests/lib/truth.py), keeping
only traffic between the given addresses. Prints mismatches; exit 1 on any."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import truth  # noqa: E402

cap, flows_file, addrs = sys.argv[1], sys.argv[2], set(sys.argv[3:])
with open(flows_file) as f:
    flows = json.load(f)["flows"]
errors, npairs, nconv = truth.compare(cap, flows, addrs or None)
for e in errors:
    print(f"  {e}")
if not errors and npairs == 0:
    print("  the capture holds no traffic between the test addresses")
    sys.exit(1)
print(f"  compared {npairs} address pairs, {nconv} tcp/udp directions")
sys.exit(1 if errors else 0)
