#!/usr/bin/env bash
# Builds etcdisc's Debian packages (shared library, -dev, CLI) into
# build-package/: scripts/package.sh [BUILD_DIR]
# Install them with: apt-get install ./build-package/*.deb
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build-package}
scripts/setup.sh
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DBUILD_SHARED_LIBS=ON -DCMAKE_INSTALL_PREFIX=/usr \
  -DETCDISC_BUILD_TESTS=OFF -DETCDISC_BUILD_EXAMPLES=OFF -DETCDISC_WERROR=ON >/dev/null
cmake --build "$dir" --parallel "$(nproc)"
(cd "$dir" && cpack -G DEB >/dev/null)
for deb in "$dir"/*.deb; do
  echo "$deb: $(dpkg-deb -f "$deb" Package Version Depends | tr '\n' ' ')"
done
