// Golden tests: hoprag's tokenizers give the same ids as the PyPI `tokenizers` package on 2,098
// strings (HotpotQA questions, answers and paragraph sentences plus hand-written Unicode,
// whitespace, digit, emoji and special-token cases), for all-MiniLM-L6-v2 (WordPiece), SmolLM2
// (byte-level BPE) and a tiny Llama-style BPE with byte fallback. Made by
// tests/golden/make_tokenizer_golden.py.
#include <catch2/catch.hpp>

#include <filesystem>

#include "hoprag/io/gguf.hpp"
#include "hoprag/tokenizers/gguf_tokenizer.hpp"
#include "hoprag/tokenizers/tokenizer_json.hpp"
#include "tokenizers/golden_support.hpp"

using namespace hoprag;
using namespace hoprag::tokenizers;

namespace {

std::string show(const std::vector<token_id>& v) {
    std::string s;
    for (const auto x : v) s += std::to_string(x) + " ";
    return s;
}

// Every input's ids equal the reference; returns how many were compared.
std::size_t check_all(const tokenizer& tok, const std::string& golden, bool add_special) {
    const auto inputs = test::golden_inputs();
    const auto want = test::golden_ids(golden);
    REQUIRE(inputs.size() >= 2000);
    REQUIRE(want.size() == inputs.size());
    std::size_t mismatches = 0;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        const auto got = tok.encode(inputs[i], add_special).ids;
        if (got != want[i]) {
            if (++mismatches <= 5) {
                INFO("input " << i << ": " << nlohmann::json(inputs[i]).dump() << "\n got  " << show(got) << "\n want " << show(want[i]));
                CHECK(got == want[i]);
            }
        }
    }
    INFO(mismatches << " of " << inputs.size() << " inputs differ");
    REQUIRE(mismatches == 0);
    return inputs.size();
}

}  // namespace

TEST_CASE("MiniLM WordPiece ids equal the reference on all golden inputs", "[tokenizers][golden]") {
    const auto tok = load_tokenizer_json(test::model_path("all-minilm-l6-v2"));
    CHECK(tok.vocab_size() == 30522);
    check_all(tok, "tokenizer_minilm.ids", true);
}

TEST_CASE("MiniLM decode equals the reference", "[tokenizers][golden]") {
    const auto tok = load_tokenizer_json(test::model_path("all-minilm-l6-v2/tokenizer.json"));
    const auto ids = test::golden_ids("tokenizer_minilm.ids");
    const auto text = test::read_lines(test::golden_path("tokenizer_minilm_decode.jsonl"));
    REQUIRE(text.size() == 400);
    for (std::size_t i = 0; i < text.size(); ++i) {
        INFO("input " << i);
        CHECK(tok.decode(ids[i]) == nlohmann::json::parse(text[i]).get<std::string>());
    }
}

TEST_CASE("MiniLM pair encoding with longest_first truncation equals the reference", "[tokenizers][golden]") {
    const auto tok = load_tokenizer_json(test::model_path("all-minilm-l6-v2"));
    const auto lines = test::read_lines(test::golden_path("tokenizer_minilm_pairs.jsonl"));
    REQUIRE(lines.size() == 300);
    std::size_t truncated = 0;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const auto j = nlohmann::json::parse(lines[i]);
        const auto e = tok.encode_pair(j["a"].get<std::string>(), j["b"].get<std::string>(), j["max_length"].get<std::size_t>());
        INFO("pair " << i << " max_length " << j["max_length"]);
        CHECK(e.ids == j["ids"].get<std::vector<token_id>>());
        CHECK(e.type_ids == j["type_ids"].get<std::vector<std::int32_t>>());
        if (e.ids.size() == j["max_length"].get<std::size_t>()) ++truncated;
    }
    CHECK(truncated > 50);  // the set exercises truncation, not only short pairs
}

TEST_CASE("SmolLM2 byte-level BPE from GGUF metadata: ids equal the reference, lossless round trips", "[tokenizers][golden]") {
    const auto gguf = test::model_path("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf");
    const io::gguf_file file(gguf);
    const auto meta = gguf_metadata_from(file.metadata(), gguf);
    CHECK(meta.pre == "smollm");
    CHECK(meta.model == "gpt2");
    CHECK(meta.tokens.size() == meta.token_types.size());
    const tokenizer tok = load_gguf_tokenizer(file);
    CHECK(tok.vocab_size() == 49152);
    check_all(tok, "tokenizer_smollm2.ids", true);
    for (const auto& s : test::golden_inputs()) {
        const auto e = tok.encode(s);
        INFO(nlohmann::json(s).dump());
        REQUIRE(tok.decode(e.ids, false) == s);
    }
}

TEST_CASE("SmolLM2 as tokenizer.json (same layout as the golden script writes) loads to the same ids", "[tokenizers][golden]") {
    // The JSON form of the GGUF vocabulary, written here so the test needs no Python; the golden
    // script writes the same layout (checked by the PyPI package) to .cache/models/.../tokenizer.json,
    // which is also checked when present.
    const auto gguf = test::model_path("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf");
    const auto meta = gguf_metadata_from(io::gguf_file(gguf).metadata(), gguf);
    nlohmann::json j;
    j["added_tokens"] = nlohmann::json::array();
    for (std::size_t i = 0; i < meta.tokens.size(); ++i)
        if (meta.token_types[i] == 3)
            j["added_tokens"].push_back({{"id", i}, {"content", meta.tokens[i]}, {"special", true}, {"normalized", false}});
    j["normalizer"] = nullptr;
    j["pre_tokenizer"] = {{"type", "Sequence"}, {"pretokenizers", {{{"type", "Digits"}, {"individual_digits", true}},
                                                                    {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}}}};
    j["post_processor"] = {{"type", "ByteLevel"}};
    j["decoder"] = {{"type", "ByteLevel"}};
    nlohmann::json vocab = nlohmann::json::object();
    for (std::size_t i = 0; i < meta.tokens.size(); ++i) vocab[meta.tokens[i]] = i;
    j["model"] = {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"vocab", vocab}, {"merges", meta.merges}};
    const auto written = test::binary_dir() + "/tests/smollm2_tokenizer.json";
    std::ofstream(written) << j.dump();
    check_all(load_tokenizer_json(written), "tokenizer_smollm2.ids", true);
    const auto from_script = test::model_path("smollm2-135m-instruct/tokenizer.json");
    if (std::filesystem::exists(from_script)) check_all(load_tokenizer_json(from_script), "tokenizer_smollm2.ids", true);
}

TEST_CASE("Llama-style BPE with byte fallback equals the reference and round-trips", "[tokenizers][golden]") {
    const auto tok = load_tokenizer_json(test::golden_path("spm_tiny_tokenizer.json"));
    check_all(tok, "tokenizer_spm_tiny.ids", false);
    std::size_t byte_tokens = 0;
    for (const auto& s : test::golden_inputs()) {
        if (s.find("<unk>") != std::string::npos || s.find("<s>") != std::string::npos) continue;
        const auto e = tok.encode(s, false);
        for (const auto id : e.ids) byte_tokens += (id >= 3 && id < 259);
        INFO(nlohmann::json(s).dump());
        REQUIRE(tok.decode(e.ids) == s);
    }
    CHECK(byte_tokens > 100);  // the inputs exercise byte fallback
    // add_special_tokens puts <s> first, as the template says.
    CHECK(tok.encode("hello", true).ids.front() == 1);
}

TEST_CASE("Metaspace pre-tokenizer and decoder (prepend_scheme first, split false) equal the reference", "[tokenizers][golden]") {
    const auto tok = load_tokenizer_json(test::golden_path("spm_tiny_metaspace_tokenizer.json"));
    const auto inputs = test::golden_inputs();
    const auto want = test::golden_ids("tokenizer_spm_tiny_metaspace.ids");
    const auto text = test::read_lines(test::golden_path("tokenizer_spm_tiny_metaspace_decode.jsonl"));
    REQUIRE(want.size() == 700);
    REQUIRE(text.size() == 300);
    std::size_t mismatches = 0;
    for (std::size_t i = 0; i < want.size(); ++i) {
        const auto got = tok.encode(inputs[i], false).ids;
        if (got != want[i] && ++mismatches <= 5) {
            INFO("input " << i << ": " << nlohmann::json(inputs[i]).dump() << "\n got  " << show(got) << "\n want " << show(want[i]));
            CHECK(got == want[i]);
        }
        if (i < text.size()) {
            INFO("decode of input " << i);
            CHECK(tok.decode(want[i]) == nlohmann::json::parse(text[i]).get<std::string>());
        }
    }
    REQUIRE(mismatches == 0);
}
