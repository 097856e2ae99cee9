#!/usr/bin/env bash
# Sets wisp up on a fresh Debian 12 machine: system packages, the default models, a Release build.
#   scripts/setup.sh            packages + models + build (build/wisp)
#   scripts/setup.sh --tests    also the test tools: GoogleTest, clang (libFuzzer), Chromium (the server's page,
#                               headless), and in the project's Python venv the reference implementations
#                               (numpy, CTranslate2, faster-whisper) and the openai client
#   scripts/setup.sh --bench    also the benchmark tools: Google Benchmark and the peers of the kernel benchmark
#                               (oneDNN, OpenBLAS); faster-whisper in the venv for bench/compare_faster_whisper.py
# Python work always runs in the project venv (.venv): Debian's python3 has no pip, its venv does (ensurepip).
# Environment: BUILD_DIR (default build), CMAKE_ARGS (extra configure flags), WISP_MODELS_DIR (default models/).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
WITH_TESTS=0
WITH_BENCH=0
for arg in "$@"; do
  case $arg in
    --tests) WITH_TESTS=1 ;;
    --bench) WITH_BENCH=1 ;;
    *) echo "setup: unknown option $arg (--tests, --bench)" >&2; exit 2 ;;
  esac
done
BUILD_DIR=${BUILD_DIR:-build}

packages=(build-essential cmake pkg-config python3 python3-venv ffmpeg
          libavformat-dev libavcodec-dev libavutil-dev libswresample-dev
          libkissfft-dev libpcre2-dev zlib1g-dev nlohmann-json3-dev libcli11-dev libcpp-httplib-dev)
[[ $WITH_TESTS == 1 ]] && packages+=(libgtest-dev clang-format clang libclang-rt-14-dev chromium)
# Debian's oneDNN CMake package looks for OpenCL (its GPU runtime) and fails the configure without it.
[[ $WITH_BENCH == 1 ]] && packages+=(libbenchmark-dev libdnnl-dev ocl-icd-opencl-dev libopenblas-openmp-dev)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO=sudo
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The venv's pip (not the system's: a new Debian 12 has none) downloads the models; pip honours /etc/pip.conf.
if [[ ! -x .venv/bin/python ]]; then python3 -m venv .venv; fi
.venv/bin/python -m pip --version >/dev/null 2>&1 || .venv/bin/python -m ensurepip --upgrade >/dev/null
.venv/bin/python scripts/install_models.py

if [[ $WITH_TESTS == 1 || $WITH_BENCH == 1 ]]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r tests/requirements.txt
fi

cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DWISP_BUILD_TESTS=$([[ $WITH_TESTS == 1 ]] && echo ON || echo OFF) \
  ${CMAKE_ARGS:-} -DPython3_EXECUTABLE="$ROOT/.venv/bin/python" >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)"
echo "setup: done — $BUILD_DIR/wisp transcribe FILE"
