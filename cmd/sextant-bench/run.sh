#!/usr/bin/env bash
# Runs the benchmark harness from the repository root.
#
#   cmd/sextant-bench/run.sh            quick run of every scenario (about 10 min)
#   cmd/sextant-bench/run.sh full       the quick run, then beats, memory and push at the issue's sizes
#   cmd/sextant-bench/run.sh -- FLAGS   the harness with FLAGS (see: go run ./cmd/sextant-bench -h)
#
# References and load tools (dnsperf, wrk, knot, etcd) are installed from
# Debian's packages when missing; everything runs on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/../.."
mode="${1:-quick}"
case "$mode" in
quick)
	exec go run ./cmd/sextant-bench --install-refs --label "quick run, default sizes"
	;;
full)
	go run ./cmd/sextant-bench --install-refs --label "quick run, default sizes"
	exec go run ./cmd/sextant-bench --scenarios push,beats,memory \
		--push-subscribers 10000 --beat-instances 100000 --beat-duration 10m \
		--memory-instances 1000000 --label "issue sizes"
	;;
--)
	shift
	exec go run ./cmd/sextant-bench "$@"
	;;
*)
	echo "usage: $0 [quick|full|-- FLAGS]" >&2
	exit 2
	;;
esac
