#!/usr/bin/env bash
# The Dockerfile's build stage, as a script that also runs on the host (CI runs it, so the image's build steps
# are tested without a Docker engine): a release build of `parley` with the Swift runtime and Foundation linked
# in statically, stripped, staged with the system libraries it still loads, under STAGE (default .build/stage).
# Prints the staged size: the runtime image is debian:bookworm-slim plus this.
# Usage: deploy/build-release.sh [STAGE]
set -euo pipefail
cd "$(dirname "$0")/.."
stage=${1:-.build/stage}
swift build -c release --product parley --static-swift-stdlib -Xlinker -s
binary=$(swift build -c release --product parley --static-swift-stdlib --show-bin-path)/parley
rm -rf "$stage"
mkdir -p "$stage/usr/local/bin"
cp "$binary" "$stage/usr/local/bin/parley"
strip "$stage/usr/local/bin/parley" 2>/dev/null || true
# What the binary still loads besides glibc: the runtime stage installs these Debian packages.
echo "dynamic libraries:"
ldd "$stage/usr/local/bin/parley" | awk '{print "  " $1}'
missing=$(ldd "$stage/usr/local/bin/parley" | grep -c "not found" || true)
if [ "$missing" != "0" ]; then echo "unresolved libraries" >&2; exit 1; fi
# The staged binary must run: it prints its version of the settings without opening anything.
"$stage/usr/local/bin/parley" serve --print-config > /dev/null
size=$(du -sb "$stage" | awk '{print $1}')
echo "staged: $stage, $((size / 1024 / 1024)) MiB ($size bytes)"
