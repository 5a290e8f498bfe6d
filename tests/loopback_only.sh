#!/bin/sh
# Runs a command (the test suite) in a network namespace of its own whose only interface is loopback,
# where this machine allows one (root with unshare and ip), else on the host network.
#
# Why: Ray 2.60 binds its GCS server, raylets and core workers to every interface (::) and its dashboard
# agent to 0.0.0.0, with no setting to keep them on 127.0.0.1. Token authentication guards those ports,
# but a test suite should not open any to the network: in this namespace no other machine can reach
# them. tests/search/test_security.py checks it when AVSEARCH_LOOPBACK_ONLY=1.
set -eu
if command -v unshare >/dev/null && command -v ip >/dev/null && unshare --net ip link set lo up 2>/dev/null; then
    exec unshare --net sh -c 'ip link set lo up && AVSEARCH_LOOPBACK_ONLY=1 exec "$@"' sh "$@"
fi
echo "note: no network namespace here (it needs root, unshare and ip): the tests run on the host network" >&2
exec "$@"
