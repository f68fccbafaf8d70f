#!/usr/bin/env bash
# Fuzzes every loader with libFuzzer: fuzz/run.sh [executions per target] [target ...]
# Builds recurrent-fuzz with -sanitize=fuzzer (in .build-fuzz), runs each target from the
# committed seed corpus (copied: new inputs stay out of the repository) and prints one line per
# target: executions, seconds, coverage (libFuzzer's cov/ft), and crashes. Crash inputs are
# written to fuzz/crashes/TARGET/ and make the script exit 1.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-100000}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(safetensors npy npz csv text model-json)
# Without this the Swift backtracer can hang after a crash instead of letting libFuzzer write it.
export SWIFT_BACKTRACE=enable=no
# The libraries with libFuzzer's coverage instrumentation, then the target file alone with swiftc
# (SwiftPM would link an executable's own entry point as main, where libFuzzer needs its own).
swift build -c release --target RecurrentTasks --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer > /dev/null
build=.build-fuzz/release
mkdir -p .build-fuzz/cmodule
printf 'module CRecurrentKernels {\n    umbrella header "%s/Sources/CRecurrentKernels/include/CRecurrentKernels.h"\n    export *\n}\n' \
    "$PWD" > .build-fuzz/cmodule/module.modulemap
binary=$build/recurrent-fuzz
swiftc -O -sanitize=fuzzer -parse-as-library -D FUZZING -module-name recurrent_fuzz Sources/recurrent-fuzz/Fuzz.swift \
    -I "$build/Modules" -Xcc -fmodule-map-file=.build-fuzz/cmodule/module.modulemap \
    "$build"/Recurrent.build/*.o "$build"/RecurrentTasks.build/*.o "$build"/CRecurrentKernels.build/*.o -o "$binary" 2> /dev/null
status=0
for target in "${targets[@]}"; do
    work=$(mktemp -d)
    cp -r "fuzz/corpus/$target/." "$work/"
    mkdir -p "fuzz/crashes/$target"
    log=$(mktemp)
    start=$(date +%s)
    if FUZZ_TARGET=$target "$binary" -runs="$runs" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
        -artifact_prefix="fuzz/crashes/$target/" -print_final_stats=1 "$work" > "$log" 2>&1; then
        outcome="no crash"
    else
        outcome="CRASH (see fuzz/crashes/$target/)"
        status=1
    fi
    seconds=$(( $(date +%s) - start ))
    executions=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    coverage=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1 || echo "cov: ?")
    printf '%-12s %12s executions  %6ss  %-22s %s\n' "$target" "$executions" "$seconds" "$coverage" "$outcome"
    [ "$outcome" = "no crash" ] || tail -30 "$log"
    rmdir "fuzz/crashes/$target" 2> /dev/null || true
    rm -rf "$work" "$log"
done
rmdir fuzz/crashes 2> /dev/null || true
exit $status
