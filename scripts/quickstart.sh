#!/usr/bin/env bash
# Quick start: install what is missing, build esrun (release), run the demo on ./esrun.db.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
swift build -c release --product esrun
.build/release/esrun scripts/demo.lua --db "${ESRUN_DB:-esrun.db}"
# The bank domain's read model (a projection), caught up from the events the demo wrote.
echo "Balances of owner Ada (projection):"
.build/release/esrun projection scripts/bank.lua Balances owner:Ada --db "${ESRUN_DB:-esrun.db}"
