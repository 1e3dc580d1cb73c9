#!/usr/bin/env bash
# The demo: the embedded broker, a keyed stream produced and consumed
# through a consumer group, throughput printed. Extra flags go to `shoal demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release --product shoal
exec .build/release/shoal demo --log-level warning "$@"
