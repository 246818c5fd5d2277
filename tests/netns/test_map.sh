#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# The service map on a three-tier rig of real servers, each tier in a
# namespace and a cgroup of its own below the test cgroup:
#
#   load (python)  -->  proxy (nginx)  -->  app (python)  -->  redis-server
#   10.210.1.1          10.210.1.2:80       10.210.2.2:8000     10.210.3.2:6379
#                       10.210.2.1          10.210.3.1
#
# Every number is checked against what the servers and clients report:
# nginx's access log, the app's log of accepted connections, redis's
# total_connections_received, the load generator's own results.
. "$(dirname "$0")/lib.sh"

N=40

rig() {
	veth_pair "$P-l" l0 10.210.1.1 "$P-p" p0 10.210.1.2
	veth_pair "$P-p" p1 10.210.2.1 "$P-a" a0 10.210.2.2
	veth_pair "$P-a" a1 10.210.3.1 "$P-r" r0 10.210.3.2
	chmod 755 "$WORK"	# nginx workers run as nobody
	mkdir -p "$WORK/tmp"
	cat >"$WORK/nginx.conf" <<-CONF
	worker_processes 2;
	daemon off;
	pid $WORK/nginx.pid;
	error_log $WORK/nginx-error.log;
	events { worker_connections 1024; }
	http {
		log_format sizes '\$request_length \$bytes_sent \$status';
		access_log $WORK/access.log sizes;
		client_body_temp_path $WORK/tmp;
		proxy_temp_path $WORK/tmp;
		fastcgi_temp_path $WORK/tmp;
		uwsgi_temp_path $WORK/tmp;
		scgi_temp_path $WORK/tmp;
		server {
			listen 10.210.1.2:80;
			location / { proxy_pass http://10.210.2.2:8000; proxy_next_upstream off; }
		}
	}
	CONF
	# its namespaces only: never the host's interfaces
	start_netprofd "$WORK/d.log" --netns "$P-l" --netns "$P-p" --netns "$P-a" --netns "$P-r" || return 1
	need_cap sockets "owners do not follow" || return 1
	CGSUB=redis start_bg "$P-r" redis-server --bind 10.210.3.2 --port 6379 --save "" \
		--appendonly no --protected-mode no --daemonize no --dir "$WORK"
	CGSUB=app start_bg "$P-a" python3 "$ROOT/tests/lib/tiers.py" app 10.210.2.2 8000 \
		10.210.3.2 6379 "$WORK/app.log"
	CGSUB=proxy start_bg "$P-p" nginx -c "$WORK/nginx.conf" -e "$WORK/nginx-error.log"
	wait_port "$P-r" 6379 && wait_port "$P-a" 8000 && wait_port "$P-p" 80 ||
		{ cat "$WORK"/bg.*.log "$WORK/nginx-error.log" >&2; return 1; }
}

# redis's own count of connections accepted, less the one asking
redis_conns() {
	local n
	n=$(ip netns exec "$P-r" redis-cli -h 10.210.3.2 INFO stats | tr -d '\r' |
		awk -F: '$1 == "total_connections_received" { print $2 }')
	echo $((n - 1))
}

test_three_tiers() {
	rig || return 1
	CGSUB=load in_cg "$P-l" python3 "$ROOT/tests/lib/tiers.py" load 10.210.1.2 80 "$N" 81 \
		>"$WORK/load.json" || return 1
	sleep 0.5
	"$NETPROF" map --json >"$WORK/map.json" || return 1
	redis_conns >"$WORK/redis.txt" || return 1
	python3 - "$WORK" "$(basename "$CG")" "$N" <<'PY'
import json, sys
work, cg, n = sys.argv[1], "/" + sys.argv[2], int(sys.argv[3])
m = json.load(open(f"{work}/map.json"))
load = json.load(open(f"{work}/load.json"))
access = [l.split() for l in open(f"{work}/access.log")]
app = [l.strip() for l in open(f"{work}/app.log")]
redis = int(open(f"{work}/redis.txt").read())

assert load["ok"] == n and load["reset_status"] == 502 and load["refused"] == 1, load
L, PX, A, R = (f"{cg}/{t}" for t in ("load", "proxy", "app", "redis"))
refused_ep = "10.210.1.2:81"
edges = {(e["client"], e["server"]): e for e in m["edges"]}
want = {(L, PX), (PX, A), (A, R), (L, refused_ep)}
assert set(edges) == want, f"edges {sorted(edges)}, want {sorted(want)}"
nodes = {x["name"]: x for x in m["nodes"]}
assert set(nodes) == {L, PX, A, R, refused_ep}, sorted(nodes)
assert nodes[PX]["ports"] == [80] and nodes[A]["ports"] == [8000] and nodes[R]["ports"] == [6379], nodes
assert "nginx" in nodes[PX]["commands"] and "redis-server" in nodes[R]["commands"], nodes

def check(edge, conns, failed, what):
    e = edges[edge]
    assert e["connections"] == conns, f"{what}: {e['connections']} connections, servers say {conns}"
    assert e["failed"] == failed, f"{what}: {e['failed']} failed, want {failed}"
    assert e["open"] == 0, f"{what}: {e['open']} still open"
    print(f"  {what}: {conns} connections, {failed} failed, "
          f"{e['bytes_client_to_server']}/{e['bytes_server_to_client']} bytes, "
          f"rtt p50 {e['rtt_p50_us']:.0f} us")

# load -> proxy: nginx logged every request (one per connection)
check((L, PX), len(access), 0, "load -> proxy")
req, resp = sum(int(a[0]) for a in access), sum(int(a[1]) for a in access)
assert req == edges[(L, PX)]["bytes_client_to_server"], f"request bytes: nginx {req}"
assert resp == edges[(L, PX)]["bytes_server_to_client"], f"response bytes: nginx {resp}"
# proxy -> app: the app's own log; the /reset one failed, as nginx's 502 says
assert app.count("reset") == 1 and sum(a[2] == "502" for a in access) == 1
check((PX, A), len(app), 1, "proxy -> app")
assert edges[(PX, A)]["reset"] == 1
# app -> redis: redis's own count
check((A, R), redis, 0, "app -> redis")
# the refused connection, on the endpoint nothing listened on
check((L, refused_ep), 1, 1, "load -> :81")
assert edges[(L, refused_ep)]["refused"] == 1
PY
}

# The text table, --dot, --since and a filter say the same as --json.
test_outputs() {
	rig || return 1
	CGSUB=load in_cg "$P-l" python3 "$ROOT/tests/lib/tiers.py" load 10.210.1.2 80 5 81 \
		>/dev/null || return 1
	sleep 0.3
	"$NETPROF" map >"$WORK/table.txt" &&
	"$NETPROF" map --dot >"$WORK/map.dot" &&
	"$NETPROF" map --json redis >"$WORK/redis.json" &&
	"$NETPROF" map --json --since 1h >"$WORK/since.json" || return 1
	sleep 1.2
	"$NETPROF" map --json --since 1s >"$WORK/none.json" || return 1
	"$NETPROF" map --svg "$WORK/map.svg" || return 1
	grep -q "<svg" "$WORK/map.svg" || { fail "no SVG written"; return 1; }
	dot -Tsvg "$WORK/map.dot" >/dev/null || { fail "dot rejects the --dot output"; return 1; }
	python3 - "$WORK" <<'PY'
import json, sys
w = sys.argv[1]
table = open(f"{w}/table.txt").read().splitlines()
dot = open(f"{w}/map.dot").read()
redis = json.load(open(f"{w}/redis.json"))["edges"]
since = json.load(open(f"{w}/since.json"))["edges"]
none = json.load(open(f"{w}/none.json"))["edges"]
assert table[0].split()[:3] == ["CLIENT", "SERVER", "CONNS"] and len(table) == 1 + len(since), table
assert all(len(l) < 100 for l in table), "a table line is 100 columns or wider"
assert dot.count("->") == len(since) == 4, dot
assert len(redis) == 1 and redis[0]["server"].endswith("/redis"), redis
assert none == [], f"--since 1s still shows {len(none)} edges idle for over a second"
print(f"  table {len(table) - 1} rows, dot {dot.count('->')} edges, filter 1, --since 1s 0")
PY
}

test_bad_input() {
	mount_bpffs
	local out
	out=$(NETPROF_PIN_DIR=$PIN/none "$NETPROF" map 2>&1) && { fail "map without pins succeeded"; return 1; }
	echo "$out" | grep -q "netprofd" || { fail "no hint to start netprofd: $out"; return 1; }
	out=$("$NETPROF" map --since forever 2>&1) && { fail "--since forever accepted"; return 1; }
	[ "$(echo "$out" | wc -l)" = 1 ] || { fail "not one line: $out"; return 1; }
	out=$(PATH=/nonexistent "$NETPROF" map --svg /tmp/x.svg 2>&1)
	[ $? != 0 ] && echo "$out" | grep -q "graphviz" || { fail "--svg without dot: $out"; return 1; }
	echo "  missing pins, bad --since, --svg without dot: one-line errors"
}

run_tests ${TESTS:-test_three_tiers test_outputs test_bad_input}
