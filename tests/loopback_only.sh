#!/bin/sh
# Runs a command (the test suite) in a network namespace of its own whose only interface is loopback,
# where this machine allows one (root with unshare and ip), else on the host network.
#
# Why: the clusters our code starts listen on 127.0.0.1 only (search.cluster.loopback_only), but nodes
# started with `ray start`, as the external-cluster test does, bind Ray 2.60's GCS, raylets and workers to
# every interface, and Ray refuses to add such a node with loopback_only's switch. In this namespace no
# other machine can reach them. tests/search/test_security.py checks it when AVSEARCH_LOOPBACK_ONLY=1.
set -eu
if command -v unshare >/dev/null && command -v ip >/dev/null && unshare --net ip link set lo up 2>/dev/null; then
    exec unshare --net sh -c 'ip link set lo up && AVSEARCH_LOOPBACK_ONLY=1 exec "$@"' sh "$@"
fi
echo "note: no network namespace here (it needs root, unshare and ip): the tests run on the host network" >&2
exec "$@"
