#!/usr/bin/env bash
# The whole test suite: unit tests and integration tests against the
# embedded broker, including tests that start node and broker processes.
# The multi-process tests (nodes, samples end to end) run first, on their
# own, so that their rebalance timing is not starved by the rest of the suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --tests
swift build --build-tests
swift test --skip-build --filter "NodeProcessTests|SampleProcessTests" "$@"
swift test --skip-build --skip "NodeProcessTests|SampleProcessTests" "$@"
# The DocC catalog builds with the standard tool, any warning failing it.
swift package generate-documentation --target Shoal --warnings-as-errors
