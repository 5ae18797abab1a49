#!/usr/bin/env bash
# Runs etcdisc's whole benchmark suite (about 50 minutes on 2 cores) against a
# local etcd it starts, and writes benchmarks/results/<date>.md with PNG
# plots in benchmarks/results/<date>/. Benchmarks, not tests: no figure here
# decides success; the script fails only if a measurement could not be made.
# etcd's Go client runs beside etcdisc (benchmarks/peers/clientv3), built
# from Debian's Go packages; without them its columns say "not measured".
# Usage: benchmarks/run.sh [--samples=N] [--kills=N]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
for package in gnuplot-nox golang-go golang-etcd-server-dev; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || {
    echo "benchmarks: installing $package"
    ${SUDO:-$( [[ $(id -u) -ne 0 ]] && echo sudo )} apt-get install -y -qq \
      --no-install-recommends "$package" >/dev/null || echo "benchmarks: $package not installed"
  }
done

build=build-bench
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DETCDISC_BUILD_BENCHMARKS=ON -DETCDISC_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" --parallel "$(nproc)"

# The Go peer, in GOPATH mode against Debian's packaged sources: no module
# download.
peer_args=()
if command -v go >/dev/null && [[ -d /usr/share/gocode/src/go.etcd.io/etcd/clientv3 ]]; then
  echo "benchmarks: building the clientv3 peer ($(go version | awk '{print $3}'))"
  GOPATH=/usr/share/gocode GO111MODULE=off go build -o "$build/clientv3-peer" ./benchmarks/peers/clientv3
  peer_args=("--clientv3-peer=$build/clientv3-peer")
else
  echo "benchmarks: no Go or no golang-etcd-server-dev: the clientv3 columns are skipped"
fi

# Named by the day; a second run on the same day gets -2, -3, ... rather
# than replacing the first one's results.
date=$(date +%F)
name=$date
for n in 2 3 4 5 6 7 8 9; do
  [[ -e benchmarks/results/$name.md ]] || break
  name=$date-$n
done
out=benchmarks/results/$name
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "benchmarks: micro benchmarks"
"$build/benchmarks/micro_benchmark" --benchmark_min_time=0.3 >"$work/micro.txt" 2>/dev/null
echo "benchmarks: end to end (etcd started locally)"
"$build/benchmarks/e2e_benchmark" run "$work" "--cli=$build/tools/etcdisc" "${peer_args[@]}" "$@"

plot() {  # NAME TITLE FILE:LABEL... (a FILE not written by this run is left out)
  local name=$1 title=$2; shift 2
  local series=()
  for spec in "$@"; do
    [[ -s "$work/${spec%%:*}" ]] || continue
    series+=("'$work/${spec%%:*}' using 1:2 with steps lw 2 title '${spec#*:}'")
  done
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
  "floor_put_watch.dat:raw put -> watch (floor)" "register_new.dat:etcdisc Register -> SubscribeNew" \
  "clientv3_register_new.dat:clientv3 grant + put -> Go watch"
plot stop_down "Stop -> Down vs. raw revoke -> watch delete" \
  "floor_revoke_delete.dat:raw revoke -> watch delete" "stop_down.dat:etcdisc Stop -> SubscribeDown" \
  "floor_put_watch.dat:raw put -> watch (floor)" "clientv3_stop_down.dat:clientv3 revoke -> Go watch"
plot kill_down "kill -9 -> Down at TTL 2 s" "kill_down.dat:kill -9 -> SubscribeDown"
plot view_on_change "A change -> ServiceView OnChange vs. the raw watch floor" \
  "view_floor_put.dat:raw put -> watch (floor)" "view_on_change_put.dat:raw put -> ServiceView OnChange"
sed -i 's|(register_new.png)|('"$name"'/register_new.png)|; s|(view_on_change.png)|('"$name"'/view_on_change.png)|' "$work/report.md"

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
  echo "Plots: [register -> New]($name/register_new.png), [Stop -> Down]($name/stop_down.png), [kill -9 -> Down]($name/kill_down.png), [a change -> OnChange]($name/view_on_change.png)."
  echo
  echo "## 9. Micro benchmarks (Google Benchmark)"
  echo
  echo '```'
  cat "$work/micro.txt"
  echo '```'
} >"benchmarks/results/$name.md"
echo "benchmarks: wrote benchmarks/results/$name.md"
