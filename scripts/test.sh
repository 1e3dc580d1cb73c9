#!/usr/bin/env bash
# The whole test suite: unit tests and integration tests against the
# embedded broker, including tests that start node and broker processes.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build --build-tests
exec swift test --skip-build "$@"
