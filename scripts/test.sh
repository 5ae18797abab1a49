#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds etcdisc and runs every test
# (unit and integration, the latter against real etcd processes the tests
# start themselves). Usage: scripts/test.sh [extra ctest arguments]
# BUILD_DIR overrides the build directory (default: build).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh

build_dir=${BUILD_DIR:-build}
jobs=$(nproc)
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DETCDISC_BUILD_TESTS=ON -DETCDISC_WERROR=ON >/dev/null
cmake --build "$build_dir" --parallel "$jobs"
ctest --test-dir "$build_dir" --output-on-failure --parallel "$jobs" "$@"
