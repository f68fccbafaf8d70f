#!/usr/bin/env bash
# The tests under AddressSanitizer and ThreadSanitizer: tools/sanitizers.sh [address|thread ...]
# Each sanitizer builds in a scratch path of its own (.build-address, .build-thread) and runs the
# kernel, autograd, recurrent-layer, model, loader and training suites (the browser and
# child-process suites are left out: they run other programs). XCTest itself leaks, which would
# make a clean run exit 1, so leak detection is off.
set -euo pipefail
cd "$(dirname "$0")/.."
sanitizers=("$@")
[ ${#sanitizers[@]} -gt 0 ] || sanitizers=(address thread)
suites='GEMMTests|PointwiseTests|PackedWeightCacheTests|AutogradTests|GradientCheck|ConvolutionTests|TorchTensorTests|FastPathTests|FusedVersusCellTests|SequenceGradientTests|RecurrentBehaviourTests|RecurrentInputTests|LayerTests|ModelLayerTests|ModelParityTests|FunctionalModelTests|KerasParityTests|TorchParityTests|NumPyTests|ZipBombTests|SafeTensorsTests|DataReaderTests|OptimizerTests|FitTests|FitOptionTests|LossTests|SurvivalTests/(aNaN|aFailed|resumedFrom|sameSeed)'
export ASAN_OPTIONS=detect_leaks=0 TSAN_OPTIONS=halt_on_error=1
status=0
for sanitizer in "${sanitizers[@]}"; do
    echo "== --sanitize=$sanitizer"
    swift build --build-tests --sanitize="$sanitizer" --scratch-path ".build-$sanitizer" > /dev/null
    log=$(mktemp)
    swift test --skip-build --sanitize="$sanitizer" --scratch-path ".build-$sanitizer" --filter "$suites" > "$log" 2>&1 || status=1
    grep -E "^(✔|✘) Test run|ERROR: AddressSanitizer|WARNING: ThreadSanitizer|SUMMARY: " "$log" || true
    if grep -qE "✘|ERROR: AddressSanitizer|WARNING: ThreadSanitizer" "$log"; then status=1; fi
    rm -f "$log"
done
exit $status
