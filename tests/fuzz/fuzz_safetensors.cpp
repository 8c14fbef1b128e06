// libFuzzer entry point for the safetensors parser (then to_f32 of every tensor): see fuzz_bodies.hpp
// for what counts as a finding. Build and run: scripts/fuzz run safetensors [SECONDS]; seeds in
// tests/fuzz/seeds/safetensors, crash regressions in tests/fuzz/regressions/safetensors.
#include <cstddef>
#include <cstdint>

#include "fuzz_bodies.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    (void)hoprag::fuzz::safetensors_one(std::span<const std::byte>(reinterpret_cast<const std::byte*>(data), size));
    return 0;
}
