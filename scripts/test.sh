#!/usr/bin/env bash
# Sets up (with test tools) and runs every test: a warnings-as-errors Release build with the whole suite
# (units, golden comparisons with CTranslate2/faster-whisper, end to end), then the unit tests and the C API
# test again under AddressSanitizer + UndefinedBehaviorSanitizer, and each libFuzzer target for a bounded time
# (WISP_FUZZ_SECONDS, default 60; any crash, leak or timeout fails the run).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export CMAKE_ARGS="-DWISP_WERROR=ON"
scripts/setup.sh --tests

echo "== clang-format"
git ls-files '*.cpp' '*.h' '*.hpp' '*.c' | xargs clang-format --dry-run -Werror
echo "== tests (Release, -Werror)"
ctest --test-dir build --output-on-failure -j 2 --timeout 1500

if [[ "${WISP_SKIP_SANITIZERS:-0}" != 1 ]]; then
  echo "== tests under ASan + UBSan"
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWISP_WERROR=ON -DWISP_SANITIZE=ON \
    -DPython3_EXECUTABLE="$ROOT/.venv/bin/python" >/dev/null
  cmake --build build-asan -j "$(nproc)" --target wisp_unit_tests wisp_api_c_test
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j 2 --timeout 1500 -E '^e2e_'
fi

if [[ "${WISP_SKIP_FUZZ:-0}" != 1 ]]; then
  echo "== fuzzing (libFuzzer + ASan + UBSan, ${WISP_FUZZ_SECONDS:-60} s per target)"
  for target in audio model_bin tokenizer tokenizer_json vad_model request; do
    scripts/fuzz.sh "$target" "${WISP_FUZZ_SECONDS:-60}"
  done
fi
