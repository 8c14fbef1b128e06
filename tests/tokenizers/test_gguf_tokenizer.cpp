// GGUF tokenizer loading through io/gguf.hpp and the load_tokenizer dispatch: a tiny hand-made GGUF
// (tests/fuzz/seeds/gguf/tokenizer_tiny.gguf, made by tests/fuzz/make_seeds.py) encodes to ids
// worked out by hand from its merges; every mistyped or missing tokenizer.ggml.* key is a
// format_error naming the key; tokenizer.json, GGUF, folders and tokenizer.model are told apart.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "hoprag/io/gguf.hpp"
#include "hoprag/tokenizers/gguf_tokenizer.hpp"
#include "hoprag/tokenizers/load_tokenizer.hpp"
#include "support/reference.hpp"

using namespace hoprag;
using namespace hoprag::tokenizers;

namespace {

const std::string tiny_gguf = test::source_dir() + "/tests/fuzz/seeds/gguf/tokenizer_tiny.gguf";
const std::string tiny_json = test::source_dir() + "/tests/fuzz/seeds/tokenizer_json/wordpiece_tiny.json";

std::filesystem::path scratch(const std::string& name) {
    const auto d = std::filesystem::path(test::binary_dir()) / "tests" / "gguf_tokenizer" / name;
    std::filesystem::remove_all(d);
    std::filesystem::create_directories(d);
    return d;
}

io::gguf_value str(std::string_view s) { return io::gguf_value{s}; }
io::gguf_value u32(std::uint32_t v) { return io::gguf_value{v}; }

}  // namespace

TEST_CASE("GGUF tokenizer: the tiny gpt2/smollm file encodes to the ids its merges imply", "[tokenizers][gguf]") {
    const io::gguf_file f(tiny_gguf);
    const auto meta = gguf_metadata_from(f.metadata(), tiny_gguf);
    CHECK(meta.model == "gpt2");
    CHECK(meta.pre == "smollm");
    CHECK(meta.tokens.size() == 19);
    CHECK(meta.merges.size() == 6);
    REQUIRE(meta.bos_id);
    CHECK(*meta.bos_id == 1);
    CHECK(meta.add_bos);
    const auto tok = load_gguf_tokenizer(f);
    // "Hello" -> He llo; " world" -> Ġwor l d; BOS first (add_bos_token); "12" -> 1 2 (individual digits)
    CHECK(tok.encode("Hello world").ids == std::vector<token_id>{1, 13, 15, 17, 4, 9});
    CHECK(tok.encode("12", false).ids == std::vector<token_id>{10, 11});
    CHECK(tok.encode("<|endoftext|>Hello", false).ids == std::vector<token_id>{0, 13, 15});
    CHECK(tok.decode(tok.encode("Hello world").ids) == "Hello world");
    // the same through the path-taking overload and the dispatch
    CHECK(load_gguf_tokenizer(std::filesystem::path(tiny_gguf)).encode("Hello world").ids == tok.encode("Hello world").ids);
    CHECK(load_tokenizer(tiny_gguf).encode("Hello world").ids == tok.encode("Hello world").ids);
}

TEST_CASE("GGUF tokenizer: missing or mistyped keys are format_errors naming the key", "[tokenizers][gguf]") {
    const io::gguf_file f(tiny_gguf);
    const auto& good = f.metadata();  // views into f, which outlives every copy below
    const auto with = [&](const std::string& key, std::optional<io::gguf_value> v) {
        auto m = good;
        if (v) m[key] = *v;
        else m.erase(key);
        return m;
    };
    const auto fails = [&](const gguf_metadata_map& m, const std::string& key) {
        try {
            (void)gguf_metadata_from(m, "x.gguf");
            FAIL("no error for " << key);
        } catch (const format_error& e) {
            const std::string what = e.what();
            INFO(what);
            CHECK(what.find("x.gguf") != std::string::npos);
            CHECK(what.find(key) != std::string::npos);
        }
    };
    REQUIRE_NOTHROW(gguf_metadata_from(good, "x.gguf"));
    fails(with("tokenizer.ggml.model", std::nullopt), "tokenizer.ggml.model");
    fails(with("tokenizer.ggml.model", u32(2)), "tokenizer.ggml.model");
    fails(with("tokenizer.ggml.tokens", std::nullopt), "tokenizer.ggml.tokens");
    fails(with("tokenizer.ggml.tokens", str("a")), "tokenizer.ggml.tokens");
    fails(with("tokenizer.ggml.merges", u32(0)), "tokenizer.ggml.merges");
    fails(with("tokenizer.ggml.pre", u32(0)), "tokenizer.ggml.pre");
    fails(with("tokenizer.ggml.token_type", str("1")), "tokenizer.ggml.token_type");
    fails(with("tokenizer.ggml.bos_token_id", u32(19)), "tokenizer.ggml.bos_token_id");  // 19 tokens: ids 0..18
    fails(with("tokenizer.ggml.bos_token_id", str("1")), "tokenizer.ggml.bos_token_id");
    fails(with("tokenizer.ggml.add_bos_token", u32(1)), "tokenizer.ggml.add_bos_token");
    // a token type outside 0..6
    {
        static const std::int32_t types[] = {3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 9, 1};
        io::gguf_array a;
        a.type = io::gguf_type::i32;
        a.count = 19;
        a.raw = std::as_bytes(std::span(types));
        fails(with("tokenizer.ggml.token_type", io::gguf_value{a}), "tokenizer.ggml.token_type");
    }
    // unsupported model: config_error, not format_error
    CHECK_THROWS_AS(tokenizer(spec_from_gguf(gguf_metadata_from(with("tokenizer.ggml.model", str("llama")), "x.gguf"), "x.gguf")), config_error);
}

TEST_CASE("load_tokenizer: tokenizer.json, GGUF, folders and tokenizer.model", "[tokenizers][gguf]") {
    const auto json_ids = load_tokenizer_json(tiny_json).encode("Hello, world!").ids;
    CHECK(json_ids == std::vector<token_id>{2, 4, 5, 6, 7, 3});
    CHECK(load_tokenizer(tiny_json).encode("Hello, world!").ids == json_ids);

    const auto json_dir = scratch("json");
    std::filesystem::copy_file(tiny_json, json_dir / "tokenizer.json");
    std::ofstream(json_dir / "tokenizer.model") << "\x0a\x05hello";  // tokenizer.json wins
    CHECK(load_tokenizer(json_dir).encode("Hello, world!").ids == json_ids);

    const auto gguf_dir = scratch("gguf");
    std::filesystem::copy_file(tiny_gguf, gguf_dir / "model.gguf");
    CHECK(load_tokenizer(gguf_dir).encode("Hello world").ids == std::vector<token_id>{1, 13, 15, 17, 4, 9});

    // A folder holding only tokenizer.model, and the file itself, go to the SentencePiece reader:
    // a malformed one is a format_error naming the byte offset (full tests: test_sentencepiece_model).
    const auto spm_dir = scratch("spm");
    std::ofstream(spm_dir / "tokenizer.model") << "\x0a\x05hello";
    for (const auto& p : {spm_dir, spm_dir / "tokenizer.model"}) {
        try {
            (void)load_tokenizer(p);
            FAIL("malformed tokenizer.model accepted");
        } catch (const format_error& e) {
            CHECK(std::string(e.what()).find("tokenizer.model: byte offset ") != std::string::npos);
        }
    }
    CHECK_THROWS_AS(load_tokenizer(scratch("empty")), io_error);
    CHECK_THROWS_AS(load_tokenizer(scratch("empty") / "nothing.json"), io_error);
    // a GGUF file without tokenizer keys
    CHECK_THROWS_AS(load_tokenizer(test::source_dir() + "/tests/golden/gguf_quants_tiny.gguf"), format_error);
}
