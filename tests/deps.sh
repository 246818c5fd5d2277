#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Install the Debian packages listed in $1 that are missing. Idempotent and
# silent when nothing is missing. Services in the list (nginx, ...) are only
# wanted as programs the tests run themselves: they are not started.
set -eu
list=${1:-debian-packages.txt}
missing=
for p in $(grep -v '^#' "$list"); do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "netprof: missing packages:$missing; run 'make deps' as root" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy"	# 101: do not start services
	chmod +x "$policy"
	trap 'rm -f "$policy"' EXIT
fi
apt-get update -qq >/dev/null || { sleep 5; apt-get update -qq >/dev/null; }
apt-get install -y -qq --no-install-recommends $missing >/dev/null
