#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds etcdisc and runs every check:
#   1. unit, integration and package tests (real etcd processes started by
#      the tests), built with AddressSanitizer + UBSan;
#   2. the chaos suite (3-member cluster, members killed/paused, compaction),
#      plain and with TLS + etcd auth, on the same build;
#   3. the concurrency-heavy tests under ThreadSanitizer;
#   4. a clang build that checks the lock annotations (-Wthread-safety) and
#      runs each libFuzzer target for a while;
#   5. the Debian packages: built, installed with apt-get, used, removed.
# Usage: scripts/test.sh [--quick] [extra ctest arguments for step 1]
#   --quick   unit and integration tests only, in a build without
#             sanitizers (the everyday development loop).
# Environment: ETCDISC_CHAOS_SECONDS (default 60), ETCDISC_FUZZ_SECONDS
# (default 20 per target).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

quick=false
if [[ "${1:-}" == "--quick" ]]; then quick=true; shift; fi

scripts/setup.sh
jobs=$(nproc)
step() { echo; echo "==== $* ($(date +%T))"; }

# Debug information as line tables only (-g1): a failure's stacks still name
# functions, files and lines, and the builds take about a sixth less time.
line_tables=(-DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" -DCMAKE_CXX_FLAGS_DEBUG="-g1")
configure_and_build() {  # DIR [cmake args...]; TARGETS: what to build (all)
  local dir=$1; shift
  cmake -S . -B "$dir" -G Ninja -DETCDISC_BUILD_TESTS=ON -DETCDISC_WERROR=ON \
    "${line_tables[@]}" "$@" >/dev/null
  # shellcheck disable=SC2086 # TARGETS is a list.
  cmake --build "$dir" --parallel "$jobs" ${TARGETS:+--target $TARGETS}
}

if $quick; then
  step "unit + integration tests"
  configure_and_build build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DETCDISC_BUILD_BENCHMARKS=ON
  ctest --test-dir build --output-on-failure --parallel "$jobs" -LE chaos "$@"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

step "1. unit, integration and package tests, under AddressSanitizer + UndefinedBehaviorSanitizer"
# One optimized build with both sanitizers serves every test and the chaos
# suite (a second, plain build and run of the same tests took a quarter of
# this script's time). The benchmarks are built too, so that a change cannot
# break them unseen.
# Debug (assertions on) at -O1: quicker to build than -O2 and quick enough
# to run the storm and the browser test as well.
configure_and_build build-asan -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" -DETCDISC_SANITIZE=address \
  -DETCDISC_BUILD_BENCHMARKS=ON
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS="suppressions=$root/test/lsan_suppressions.txt"
ctest --test-dir build-asan --output-on-failure --parallel "$jobs" -LE chaos "$@"

step "2. chaos suite (${ETCDISC_CHAOS_SECONDS:=60} s of faults)"
export ETCDISC_CHAOS_SECONDS
if ! ctest --test-dir build-asan -L chaos --verbose >"$work/chaos.log" 2>&1; then
  # The assertions that failed, then how the run ended.
  grep -v '^[0-9]*: {"level"' "$work/chaos.log" |
    awk '/Failure$/ { show = 1 } /\[  FAILED  \]|\[       OK \]/ { show = 0 }
         show && shown++ < 120' || true
  grep -v '^[0-9]*: {"level"' "$work/chaos.log" | tail -25 || true
  echo "chaos suite failed"; exit 1
fi
grep -E 'chaos:|tests passed' "$work/chaos.log"
unset ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS

step "3. ThreadSanitizer (queues, scheduler, watch multiplexing, keep-alive, shutdown, health, balancing)"
# Only the binaries this step runs (a TSan build of the others costs minutes).
TARGETS="etcd_unit_test discovery_unit_test membership_unit_test fleet_unit_test
  balancing_unit_test grpc_unit_test corpus_replay_test etcd_integration_test
  discovery_integration_test views_integration_test membership_integration_test
  fleet_integration_test balancing_integration_test grpc_integration_test
  greeter_server greeter_client" \
  configure_and_build build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DETCDISC_SANITIZE=thread
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$root/test/tsan_suppressions.txt"
ctest --test-dir build-tsan --output-on-failure --parallel "$jobs" -L unit
ctest --test-dir build-tsan --output-on-failure --parallel "$jobs" \
  -R 'WatchHubTest|LeaseKeeperTest|FailoverTest|SubscribeTest|FaultTest\.Shutdown|EndpointSyncTest|MetricsTest|RegisterTest\.(Many|Stop|LeaseRevoked)|RegisterLifeTest|RegistrationRaceTest|SubscriptionRepairTest|ProxyTest|AuthTest\.APassword|ShortTokenTest|AuthTokensTest|ServiceViewTest|MembershipTest|FleetTest|FleetViewTest|BalancerTest|ServiceChannelsTest'
unset TSAN_OPTIONS

step "4. clang: lock annotations (-Wthread-safety -Werror), no precompiled headers, and fuzzing"
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DETCDISC_BUILD_TESTS=ON -DETCDISC_WERROR=ON -DETCDISC_BUILD_FUZZERS=ON \
  -DETCDISC_SANITIZE=address -DETCDISC_PRECOMPILED_HEADERS=OFF "${line_tables[@]}" >/dev/null
cmake --build build-fuzz --parallel "$jobs" --target etcdisc etcdisc_cli \
  record_fuzzer key_fuzzer endpoints_fuzzer
for target in record key endpoints; do
  mkdir -p "$work/$target"
  echo "fuzzing $target for ${ETCDISC_FUZZ_SECONDS:-20} s"
  # New inputs go to a scratch corpus; a failing one is kept as an artifact,
  # to be fixed and added to test/fuzz/corpus/$target as a regression input.
  if ! ASAN_OPTIONS=detect_leaks=1 build-fuzz/test/${target}_fuzzer \
      -max_total_time="${ETCDISC_FUZZ_SECONDS:-20}" -print_final_stats=1 \
      -artifact_prefix="$work/$target-" "$work/$target" "test/fuzz/corpus/$target" \
      >"$work/$target.log" 2>&1; then
    tail -40 "$work/$target.log"
    echo "fuzzer $target failed; inputs: $(ls "$work"/$target-* 2>/dev/null)"; exit 1
  fi
  grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb)' "$work/$target.log"
done

step "5. Debian packages"
scripts/check_packages.sh

echo; echo "all checks passed"
