#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds etcdisc and runs every check:
#   1. unit and integration tests (real etcd processes started by the tests);
#   2. the chaos suite (3-member cluster, members killed/paused, compaction),
#      plain and with TLS + etcd auth;
#   3. unit and integration tests under AddressSanitizer + UBSan;
#   4. the concurrency-heavy tests under ThreadSanitizer;
#   5. a clang build that checks the lock annotations (-Wthread-safety) and
#      runs each libFuzzer target for a while;
#   6. the Debian packages: built, installed with apt-get, used, removed.
# Usage: scripts/test.sh [--quick] [extra ctest arguments for step 1]
#   --quick   step 1 only (the everyday development loop).
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

step "1. build and run unit + integration tests"
# The benchmarks are built too, so that a change cannot break them unseen.
configure_and_build build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DETCDISC_BUILD_BENCHMARKS=ON
ctest --test-dir build --output-on-failure --parallel "$jobs" -LE chaos "$@"
$quick && exit 0

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

step "2. chaos suite (${ETCDISC_CHAOS_SECONDS:=60} s of faults)"
export ETCDISC_CHAOS_SECONDS
if ! ctest --test-dir build -L chaos --verbose >"$work/chaos.log" 2>&1; then
  # The assertions that failed, then how the run ended.
  grep -v '^[0-9]*: {"level"' "$work/chaos.log" |
    awk '/Failure$/ { show = 1 } /\[  FAILED  \]|\[       OK \]/ { show = 0 }
         show && shown++ < 120' || true
  grep -v '^[0-9]*: {"level"' "$work/chaos.log" | tail -25 || true
  echo "chaos suite failed"; exit 1
fi
grep -E 'chaos:|tests passed' "$work/chaos.log"

step "3. AddressSanitizer + UndefinedBehaviorSanitizer"
# Every test binary (not the chaos suite's); one left out would show as a
# failed *_NOT_BUILT test. consumer_test is built for its list of tests,
# which -LE package then leaves out.
TARGETS="etcd_unit_test etcd_integration_test discovery_unit_test
  discovery_integration_test views_integration_test membership_unit_test
  membership_integration_test fleet_unit_test fleet_integration_test
  fleet_serve_test cli_test storm_test corpus_replay_test consumer_test
  balancing_unit_test balancing_integration_test grpc_unit_test
  grpc_integration_test greeter_server greeter_client" \
  configure_and_build build-asan -DCMAKE_BUILD_TYPE=Debug -DETCDISC_SANITIZE=address
# The storm (100 registrar processes) and the 100 rounds of racing CLI
# joiners ran in step 1; under ASan they would only be slower.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  LSAN_OPTIONS="suppressions=$root/test/lsan_suppressions.txt" \
  ctest --test-dir build-asan --output-on-failure --parallel "$jobs" -LE 'chaos|package' -E 'Storm|OfTwoProcessesJoining|InABrowser'

step "4. ThreadSanitizer (queues, scheduler, watch multiplexing, keep-alive, shutdown, health, balancing)"
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

step "5. clang: lock annotations (-Wthread-safety -Werror), no precompiled headers, and fuzzing"
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

step "6. Debian packages"
scripts/check_packages.sh

echo; echo "all checks passed"
