// Replays the fuzz targets' inputs through the same bodies (tests/fuzz/fuzz_bodies.hpp) in the
// normal test suite, so the ASan+UBSan CI build re-checks them on every run: every seed must parse
// (the seeds are valid files, so the fuzzers start from the accepting paths), and every input a
// fuzzer crashed on (tests/fuzz/regressions/NAME/*) must now be rejected with a hoprag::error or
// parse — never crash, read out of bounds or throw anything else.
#include <catch2/catch.hpp>

#include <filesystem>
#include <functional>
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

TEST_CASE("tokenizer.json integers that are floats or out of range are format_errors (fuzz finding)", "[fuzz][tokenizers]") {
    // Found by fuzz_tokenizer_json under UBSan: a vocab id of 1111...116 (too big for int64, so the
    // JSON parser stores it as a double) was converted to long with undefined behaviour.
    const auto base = nlohmann::json::parse(read_all(std::filesystem::path(hoprag::test::source_dir()) /
                                                     "tests/fuzz/seeds/tokenizer_json/wordpiece_tiny.json"));
    REQUIRE(hoprag::fuzz::tokenizer_json_one(base.dump()));
    const auto huge = nlohmann::json::parse("1111111111111111111111111111111111111111116");
    REQUIRE(huge.is_number_float());
    const auto edits = std::vector<std::pair<std::string, std::function<void(nlohmann::json&)>>>{
        {"model.vocab id", [&](nlohmann::json& j) { j["model"]["vocab"]["hello"] = huge; }},
        {"model.vocab id", [&](nlohmann::json& j) { j["model"]["vocab"]["hello"] = 4.5; }},
        {"added_tokens id", [&](nlohmann::json& j) { j["added_tokens"][0]["id"] = 1e30; }},
        {"added_tokens id", [&](nlohmann::json& j) { j["added_tokens"][0]["id"] = 5'000'000'000LL; }},
        {"special token id", [&](nlohmann::json& j) { j["post_processor"]["special_tokens"]["[CLS]"]["ids"][0] = -1e300; }},
        {"type_id", [&](nlohmann::json& j) { j["post_processor"]["single"][0]["SpecialToken"]["type_id"] = 1e20; }},
        {"max_input_chars_per_word", [&](nlohmann::json& j) { j["model"]["max_input_chars_per_word"] = -3; }},
        {"cls id", [&](nlohmann::json& j) {
             j["post_processor"] = {{"type", "BertProcessing"}, {"sep", {"[SEP]", 3}}, {"cls", {"[CLS]", 2.0e40}}};
         }},
    };
    for (const auto& [field, edit] : edits) {
        auto j = base;
        edit(j);
        INFO(field << ": " << j.dump());
        try {
            (void)hoprag::tokenizers::parse_tokenizer_json(j.dump(), "edited.json");
            FAIL("accepted");
        } catch (const hoprag::format_error& e) {
            const std::string what = e.what();
            INFO(what);
            CHECK(what.find("edited.json") != std::string::npos);
            CHECK(what.find(field) != std::string::npos);
        }
    }
}
