#!/usr/bin/env bash
# Installs this build of etcdisc into WORK/prefix and builds the two consumer
# examples against it: examples/consumer/cmake (find_package) into
# WORK/cmake-consumer and examples/consumer/pkgconfig (pkg-config) into
# WORK/pkgconfig-consumer.
#   build_consumers.sh BUILD_DIR SOURCE_DIR WORK
set -euo pipefail
build=$1 source=$2 work=$3
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null

# Only the one library is installed: the internal layers are inside it.
libs=$(cd "$prefix/lib" && ls -- *.a *.so* 2>/dev/null || true)
if [[ "$libs" != libetcdisc* ]] || grep -qv '^libetcdisc\.' <<<"$libs"; then
  echo "unexpected libraries installed: $libs" >&2
  exit 1
fi

cmake -S "$source/examples/consumer/cmake" -B "$work/cmake-build" \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/cmake-build" >/dev/null
cp "$work/cmake-build/consumer" "$work/cmake-consumer"

PKG_CONFIG_PATH="$prefix/lib/pkgconfig" \
  make -s -C "$source/examples/consumer/pkgconfig" OUT="$work/pkgconfig-consumer"
echo "built $work/cmake-consumer $work/pkgconfig-consumer"
