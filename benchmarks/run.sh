#!/usr/bin/env bash
# Runs etcdisc's whole benchmark suite (about 5 minutes on 2 cores) against a
# local etcd it starts, and writes benchmarks/results/<date>.md with PNG
# plots in benchmarks/results/<date>/. Benchmarks, not tests: no figure here
# decides success; the script fails only if a measurement could not be made.
# Usage: benchmarks/run.sh [--samples=N] [--kills=N]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
dpkg-query -W -f='${Status}' gnuplot-nox 2>/dev/null | grep -q "install ok installed" || {
  echo "benchmarks: installing gnuplot-nox"
  ${SUDO:-$( [[ $(id -u) -ne 0 ]] && echo sudo )} apt-get install -y -qq gnuplot-nox >/dev/null
}

build=build-bench
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DETCDISC_BUILD_BENCHMARKS=ON -DETCDISC_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" --parallel "$(nproc)"

date=$(date +%F)
out=benchmarks/results/$date
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "benchmarks: micro benchmarks"
"$build/benchmarks/micro_benchmark" --benchmark_min_time=0.3 >"$work/micro.txt" 2>/dev/null
echo "benchmarks: end to end (etcd started locally)"
"$build/benchmarks/e2e_benchmark" run "$work" "--cli=$build/tools/etcdisc" "$@"

plot() {  # NAME TITLE FILE:LABEL...
  local name=$1 title=$2; shift 2
  local series=()
  for spec in "$@"; do series+=("'$work/${spec%%:*}' using 1:2 with steps lw 2 title '${spec#*:}'"); done
  gnuplot <<GNUPLOT
set terminal png size 900,520
set output '$out/$name.png'
set title '$title'
set xlabel 'milliseconds'
set ylabel 'fraction of samples'
set key bottom right
set grid
set logscale x
plot $(IFS=,; echo "${series[*]}")
GNUPLOT
}
plot register_new "Register -> New vs. the floor (raw put under a lease -> raw watch)" \
  "floor_put_watch.dat:raw put -> watch (floor)" "register_new.dat:etcdisc Register -> SubscribeNew"
plot stop_down "Stop -> Down vs. raw revoke -> watch delete" \
  "floor_revoke_delete.dat:raw revoke -> watch delete" "stop_down.dat:etcdisc Stop -> SubscribeDown" \
  "floor_put_watch.dat:raw put -> watch (floor)"
plot kill_down "kill -9 -> Down at TTL 2 s" "kill_down.dat:kill -9 -> SubscribeDown"
plot view_on_change "A change -> ServiceView OnChange vs. the raw watch floor" \
  "view_floor_put.dat:raw put -> watch (floor)" "view_on_change_put.dat:raw put -> ServiceView OnChange"
sed -i 's|(register_new.png)|('"$date"'/register_new.png)|; s|(view_on_change.png)|('"$date"'/view_on_change.png)|' "$work/report.md"

{
  echo "# etcdisc benchmark results, $date"
  echo
  echo "Produced by \`benchmarks/run.sh\` on this machine:"
  echo
  echo "- CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; memory $(free -g | awk '/Mem:/{print $2}') GiB"
  echo "- OS: $(. /etc/os-release; echo "$PRETTY_NAME"), kernel $(uname -r)"
  echo "- etcd $(/usr/bin/etcd --version | awk '/etcd Version/{print $3}') (one member, loopback, on the test fixture's settings: heartbeat 50 ms, election 500 ms)"
  echo "- compiler: $(c++ --version | head -1); gRPC $(dpkg-query -W -f='${Version}' libgrpc++-dev); protobuf $(dpkg-query -W -f='${Version}' libprotobuf-dev)"
  echo "- build: Release (-O3)"
  echo
  cat "$work/report.md"
  echo "Plots: [register -> New]($date/register_new.png), [Stop -> Down]($date/stop_down.png), [kill -9 -> Down]($date/kill_down.png), [a change -> OnChange]($date/view_on_change.png)."
  echo
  echo "## 9. Micro benchmarks (Google Benchmark)"
  echo
  echo '```'
  cat "$work/micro.txt"
  echo '```'
} >"benchmarks/results/$date.md"
echo "benchmarks: wrote benchmarks/results/$date.md"
