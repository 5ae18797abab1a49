#!/usr/bin/env bash
# Installs this build of etcdisc into WORK/prefix and builds the consumer
# examples against it: examples/consumer/cmake (find_package) into
# WORK/cmake-consumer and WORK/cmake-grpc-consumer, and
# examples/consumer/pkgconfig (pkg-config) into WORK/pkgconfig-consumer and
# WORK/pkgconfig-grpc-consumer.
#   build_consumers.sh BUILD_DIR SOURCE_DIR WORK
set -euo pipefail
build=$1 source=$2 work=$3
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null

# Only libetcdisc and libetcdisc_grpc are installed: the internal layers are
# inside libetcdisc.
libs=$(cd "$prefix/lib" && ls -- *.a *.so* 2>/dev/null || true)
if ! grep -q '^libetcdisc\.' <<<"$libs" || ! grep -q '^libetcdisc_grpc\.' <<<"$libs" ||
    grep -Eqv '^libetcdisc(_grpc)?\.' <<<"$libs"; then
  echo "unexpected libraries installed: $libs" >&2
  exit 1
fi

# A sanitizer build's library needs the sanitizer's runtime in its
# consumers too.
case $(sed -n 's/^ETCDISC_SANITIZE:STRING=//p' "$build/CMakeCache.txt") in
  address) sanitize=-fsanitize=address,undefined ;;
  thread) sanitize=-fsanitize=thread ;;
  *) sanitize= ;;
esac

cmake -S "$source/examples/consumer/cmake" -B "$work/cmake-build" \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_FLAGS="$sanitize" -DCMAKE_EXE_LINKER_FLAGS="$sanitize" >/dev/null
cmake --build "$work/cmake-build" >/dev/null
cp "$work/cmake-build/consumer" "$work/cmake-consumer"
cp "$work/cmake-build/grpc_consumer" "$work/cmake-grpc-consumer"

PKG_CONFIG_PATH="$prefix/lib/pkgconfig" \
  make -s -C "$source/examples/consumer/pkgconfig" CXXFLAGS="-O2 $sanitize" \
    OUT="$work/pkgconfig-consumer" \
    GRPC_OUT="$work/pkgconfig-grpc-consumer" "$work/pkgconfig-consumer" grpc
echo "built the consumers in $work"
