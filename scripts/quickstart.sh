#!/usr/bin/env bash
# Quick start: install what is missing, build esrun (release), run the demo on ./esrun.db.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
swift build -c release --product esrun
.build/release/esrun scripts/demo.lua --db "${ESRUN_DB:-esrun.db}"
