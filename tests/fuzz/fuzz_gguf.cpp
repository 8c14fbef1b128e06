// libFuzzer entry point for the GGUF parser (metadata, dequantisation of every tensor, tokenizer.ggml.* -> tokenizer): see fuzz_bodies.hpp
// for what counts as a finding. Build and run: scripts/fuzz run gguf [SECONDS]; seeds in
// tests/fuzz/seeds/gguf, crash regressions in tests/fuzz/regressions/gguf.
#include <cstddef>
#include <cstdint>

#include "fuzz_bodies.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    (void)hoprag::fuzz::gguf_one(std::span<const std::byte>(reinterpret_cast<const std::byte*>(data), size));
    return 0;
}
