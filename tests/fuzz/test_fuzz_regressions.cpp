// Replays the fuzz targets' inputs through the same bodies (tests/fuzz/fuzz_bodies.hpp) in the
// normal test suite, so the ASan+UBSan CI build re-checks them on every run: every seed must parse
// (the seeds are valid files, so the fuzzers start from the accepting paths), and every input a
// fuzzer crashed on (tests/fuzz/regressions/NAME/*) must now be rejected with a hoprag::error or
// parse — never crash, read out of bounds or throw anything else.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz/fuzz_bodies.hpp"
#include "support/reference.hpp"

namespace {

std::vector<std::filesystem::path> files_in(const std::string& dir) {
    std::vector<std::filesystem::path> out;
    const auto d = std::filesystem::path(hoprag::test::source_dir()) / "tests" / "fuzz" / dir;
    if (std::filesystem::is_directory(d))
        for (const auto& e : std::filesystem::directory_iterator(d))
            if (e.is_regular_file() && e.path().filename() != ".gitkeep") out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

std::string read_all(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    REQUIRE(in.good());
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool run(const std::string& target, const std::string& bytes) {
    const std::span<const std::byte> b(reinterpret_cast<const std::byte*>(bytes.data()), bytes.size());
    if (target == "safetensors") return hoprag::fuzz::safetensors_one(b);
    if (target == "gguf") return hoprag::fuzz::gguf_one(b);
    return hoprag::fuzz::tokenizer_json_one(bytes);
}

}  // namespace

TEST_CASE("fuzz seeds are valid files that parse", "[fuzz]") {
    for (const std::string target : {"safetensors", "gguf", "tokenizer_json"}) {
        const auto seeds = files_in("seeds/" + target);
        INFO(target);
        CHECK(seeds.size() >= 1);
        for (const auto& p : seeds) {
            INFO(p.string());
            CHECK(run(target, read_all(p)));
        }
    }
}

TEST_CASE("inputs the fuzzers crashed on are handled", "[fuzz]") {
    for (const std::string target : {"safetensors", "gguf", "tokenizer_json"})
        for (const auto& p : files_in("regressions/" + target)) {
            INFO(p.string());
            CHECK_NOTHROW(run(target, read_all(p)));
        }
}
