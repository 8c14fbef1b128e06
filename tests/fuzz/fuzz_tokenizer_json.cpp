// libFuzzer entry point for the tokenizer.json loader (then encoding a fixed probe string): see fuzz_bodies.hpp
// for what counts as a finding. Build and run: scripts/fuzz run tokenizer_json [SECONDS]; seeds in
// tests/fuzz/seeds/tokenizer_json, crash regressions in tests/fuzz/regressions/tokenizer_json.
#include <cstddef>
#include <cstdint>

#include "fuzz_bodies.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    (void)hoprag::fuzz::tokenizer_json_one(std::string_view(reinterpret_cast<const char*>(data), size));
    return 0;
}
