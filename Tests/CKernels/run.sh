#!/usr/bin/env bash
# Builds Tests/CKernels/kernel_test.c with the C kernels and runs it: natively (every ISA this
# CPU supports), and for arm64 NEON cross-compiled with Debian's gcc-aarch64-linux-gnu and run
# under qemu-aarch64-static (qemu-user-static) when both are installed.
set -euo pipefail
cd "$(dirname "$0")/../.."
src=(Sources/CRecurrentKernels/*.c Tests/CKernels/kernel_test.c)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

cc -O2 -std=c11 -D_POSIX_C_SOURCE=200112L -Wall -Wno-unknown-pragmas -ISources/CRecurrentKernels/include "${src[@]}" -lm -o "$out/native"
echo "C kernels, native ($(uname -m)):"
"$out/native"

if command -v aarch64-linux-gnu-gcc > /dev/null && command -v qemu-aarch64-static > /dev/null; then
    aarch64-linux-gnu-gcc -O2 -std=c11 -D_POSIX_C_SOURCE=200112L -static -Wno-unknown-pragmas \
        -ISources/CRecurrentKernels/include "${src[@]}" -lm -o "$out/arm64"
    echo "C kernels, arm64 under qemu-aarch64-static:"
    qemu-aarch64-static "$out/arm64"
else
    echo "C kernels, arm64: skipped (needs aarch64-linux-gnu-gcc and qemu-aarch64-static)"
fi
