#!/usr/bin/env bash
# The project's test command (what .ci/run calls): install what is missing, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
swift build --build-tests
swift test --skip-build --parallel --num-workers 2
