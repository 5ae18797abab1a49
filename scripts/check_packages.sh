#!/usr/bin/env bash
# Builds etcdisc's Debian packages, installs them on this machine with apt-get
# (which checks their declared dependencies), and uses what they installed:
# `etcdisc --version`, the man page, bash completion, and the consumer examples
# (etcdisc, and etcdisc_grpc over it) built against /usr and run against a
# throwaway etcd. Removes the packages at
# the end. Run as root, or as a user with sudo. Called by scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
work=$(mktemp -d)
soversion=$(sed -n 's/^project(etcdisc VERSION \([0-9]*\.[0-9]*\).*/\1/p' CMakeLists.txt)
packages=(etcdisc libetcdisc-dev "libetcdisc$soversion" libetcdisc-grpc-dev "libetcdisc-grpc$soversion")
etcd_pid=""
cleanup() {
  if [[ -n "$etcd_pid" ]]; then kill "$etcd_pid" 2>/dev/null || true; fi
  $sudo apt-get purge -y -qq "${packages[@]}" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

scripts/package.sh build-package
version=$(sed -n 's/^project(etcdisc VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get install -y -qq ./build-package/*.deb >/dev/null

[[ "$(command -v etcdisc)" == /usr/bin/etcdisc ]] || { echo "etcdisc is not /usr/bin/etcdisc" >&2; exit 1; }
[[ "$(etcdisc --version)" == "etcdisc $version" ]] || { echo "etcdisc --version: $(etcdisc --version)" >&2; exit 1; }
test -f /usr/share/man/man1/etcdisc.1.gz
test -f /usr/share/bash-completion/completions/etcdisc
echo "installed: $(etcdisc --version), man page, bash completion"

# The consumer examples, built against the installed -dev package.
cmake -S examples/consumer/cmake -B "$work/cmake-build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/cmake-build" >/dev/null
make -s -C examples/consumer/pkgconfig OUT="$work/pkgconfig-consumer" \
  GRPC_OUT="$work/pkgconfig-grpc-consumer" "$work/pkgconfig-consumer" grpc
uses() {  # BINARY LIBRARY: BINARY loads the installed LIBRARY.so
  local libs; libs=$(ldd "$1")
  grep -Eq "$2\\.so\\.[0-9.]+ => /(usr/)?lib/" <<<"$libs" && return 0
  echo "$1 does not use the installed $2:" >&2; ldd "$1" >&2; exit 1
}
for binary in "$work/cmake-build/consumer" "$work/pkgconfig-consumer"; do
  uses "$binary" libetcdisc
done
for binary in "$work/cmake-build/grpc_consumer" "$work/pkgconfig-grpc-consumer"; do
  uses "$binary" libetcdisc; uses "$binary" libetcdisc_grpc
done

# ... and run against a throwaway etcd.
port=$(( 20000 + RANDOM % 10000 )); peer=$(( port + 1 ))
/usr/bin/etcd --name pkg --data-dir "$work/etcd" \
  --listen-client-urls "http://127.0.0.1:$port" --advertise-client-urls "http://127.0.0.1:$port" \
  --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
  --initial-cluster "pkg=http://127.0.0.1:$peer" --logger zap --log-outputs "$work/etcd.log" >/dev/null 2>&1 &
etcd_pid=$!
export ETCD_HOSTS="http://127.0.0.1:$port"
up=false
for _ in $(seq 1 100); do
  etcdisc services --timeout=200ms >/dev/null 2>&1 && { up=true; break; }
  sleep 0.1
done
$up || { echo "etcd did not start:" >&2; tail -5 "$work/etcd.log" >&2; exit 1; }
"$work/cmake-build/consumer" deb-cmake-consumer
"$work/pkgconfig-consumer" deb-pkgconfig-consumer
"$work/cmake-build/grpc_consumer" deb-cmake-grpc-consumer
"$work/pkgconfig-grpc-consumer" deb-pkgconfig-grpc-consumer
echo "packages: installed, used and removed"
