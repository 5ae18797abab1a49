#!/usr/bin/env bash
# Installs the Debian 12 packages that etcdisc's build, tests and demo need.
# Idempotent: when everything is installed it only checks, in well under a
# second. Run as root, or as a user with sudo.
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config
  libgrpc++-dev protobuf-compiler-grpc protobuf-compiler libprotobuf-dev
  libabsl-dev uuid-dev libgflags-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  etcd-server etcd-client
  clang libclang-rt-14-dev llvm
  help2man dpkg-dev openssl
  gdb  # a failed test shows the stacks of a child process that hangs
  libcpp-httplib-dev  # etcdisc fleet serve
  chromium  # the fleet page's test renders it in a real browser
  curl  # the fleet server's HTTPS test, and the README's examples
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "setup: run as root (need: ${missing[*]})" >&2; exit 1; }
  sudo="sudo"
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
