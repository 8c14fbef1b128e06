#!/usr/bin/env bash
# Builds the llama.cpp peer of hoprag-bench-generator from the PyPI llama-cpp-python source
# package (its sdist vendors llama.cpp under vendor/llama.cpp): downloads the sdist into
# .cache/llama-cpp-python/, unpacks it, and builds llama-bench (Release, native CPU flags, no GPU)
# into .cache/llama.cpp-build/. Idempotent: an existing build is kept. Prints the llama-bench path.
# Usage: benchmarks/build_llamacpp.sh [PIP]   (PIP defaults to `python3 -m pip`)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="$root/.cache"
src_dir="$cache/llama-cpp-python"
build="$cache/llama.cpp-build"
bench="$build/bin/llama-bench"
if [[ -x "$bench" ]]; then echo "$bench"; exit 0; fi
mkdir -p "$src_dir"
if ! ls "$src_dir"/llama_cpp_python-*.tar.gz >/dev/null 2>&1; then
    ${1:-python3 -m pip} download --no-binary :all: --no-deps --dest "$src_dir" llama-cpp-python >&2
fi
sdist="$(ls "$src_dir"/llama_cpp_python-*.tar.gz | sort -V | tail -n 1)"
unpacked="${sdist%.tar.gz}"
[[ -d "$unpacked" ]] || tar -xzf "$sdist" -C "$src_dir"
llama="$unpacked/vendor/llama.cpp"
[[ -f "$llama/CMakeLists.txt" ]] || { echo "build_llamacpp.sh: $llama has no CMakeLists.txt" >&2; exit 1; }
cmake -S "$llama" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DGGML_CUDA=OFF \
    -DGGML_OPENMP=ON -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF \
    -DLLAMA_BUILD_TOOLS=ON -DBUILD_SHARED_LIBS=OFF >&2
cmake --build "$build" --target llama-bench -j "${JOBS:-2}" >&2
echo "$bench"
