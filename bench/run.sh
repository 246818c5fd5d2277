#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# `make bench`: every benchmark, one after the other (they would disturb
# each other run side by side). Figures go into docs/PERFORMANCE.md by hand,
# with the command that produced them.
set -e
cd "$(dirname "$0")/.."
echo "== per-packet cost (BPF_PROG_TEST_RUN)"
./.output/bench/prog_cost
./.output/bench/prog_cost .output/bench/empty.bpf.o precise
echo "== concurrency"
./.output/bench/concurrency
echo "== veth throughput against no netprof, per capability"
bash bench/veth_throughput.sh "${ROUNDS:-7}" "${SECS:-3}"
echo "== connection churn against no netprof, per capability"
bash bench/churn.sh "${ROUNDS:-7}" "${SECS:-3}"
echo "== netprof flows over large tables"
./.output/bench/cli_scale .output/netprof
