#!/usr/bin/env bash
# The demo: the embedded broker, two node processes of a sample (fraud
# detection unless --sample says otherwise), its seeded load generator,
# alerts as they happen, a live progress line and a summary; Ctrl-C stops it
# cleanly. Other flags go to the sample's `demo` command (--count, --rate,
# --nodes, --seed, --data, --metrics-port).
set -euo pipefail
cd "$(dirname "$0")/.."
sample=fraud
args=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --sample) sample="${2:-}"; shift 2 ;;
        --sample=*) sample="${1#--sample=}"; shift ;;
        *) args+=("$1"); shift ;;
    esac
done
case "$sample" in
    fraud) product=FraudDetection ;;
    inventory) product=InventoryAlerts ;;
    journey) product=CustomerJourney ;;
    fleet) product=FleetMonitoring ;;
    *) echo "--sample must be fraud, inventory, journey or fleet, not '$sample'" >&2; exit 2 ;;
esac
scripts/setup.sh
swift build -c release --product "$product"
exec ".build/release/$product" demo --log-level warning ${args[@]+"${args[@]}"}
