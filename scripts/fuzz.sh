#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan + libFuzzer) and runs one for a while.
#   scripts/fuzz.sh audio|model_bin|tokenizer|tokenizer_json|vad_model|request [seconds=60]
# Seeds come from ../shared (audio clips), models/ (model.bin head) and tests/fuzz/corpus/<target>/ (inputs that
# once broke something). Crashes are left in build-fuzz/ and make this script fail.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
target=${1:?"usage: scripts/fuzz.sh audio|model_bin|tokenizer|tokenizer_json|vad_model|request [seconds]"}
seconds=${2:-60}
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWISP_FUZZ=ON -DWISP_BUILD_TESTS=OFF >/dev/null
cmake --build build-fuzz -j "$(nproc)" --target "fuzz_$target"
corpus=build-fuzz/corpus-$target
mkdir -p "$corpus"
case $target in
  audio) for f in ../shared/audio/jfk.wav ../shared/audio/fleurs-en-000.ogg; do head -c 8192 "$f" > "$corpus/$(basename "$f")"; done ;;
  model_bin) head -c 4096 models/tiny.en/model.bin > "$corpus/tiny-head" ;;
  vad_model) head -c 4096 assets/vad/silero-v6.2.0-ggml.bin > "$corpus/silero-head" ;;
  tokenizer) cut -f3 ../shared/audio/manifest.tsv | tail -n +2 | split -l 1 - "$corpus/ref-" ;;
  tokenizer_json) head -c 65536 models/tiny.en/tokenizer.json > "$corpus/tiny-head" ;;
esac
if [[ -d tests/fuzz/corpus/$target ]]; then cp tests/fuzz/corpus/"$target"/* "$corpus"/; fi
export WISP_MODELS_DIR=${WISP_MODELS_DIR:-$ROOT/models}
cd build-fuzz
"./fuzz_$target" -max_total_time="$seconds" -timeout=25 -max_len=65536 -rss_limit_mb=4096 "corpus-$target"
