// SentencePiece tokenizer.model: golden ids from the PyPI `sentencepiece` package for two tiny BPE
// models with byte fallback trained on HotpotQA (tests/golden/make_spm_model_golden.py) on 2,098
// strings, decode equal to sp.decode, and the protobuf reader on hand-built and damaged files:
// score-priority merges, every refused model kind, and format_errors that name the byte offset.
#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <random>

#include "hoprag/tokenizers/load_tokenizer.hpp"
#include "hoprag/tokenizers/sentencepiece_model.hpp"
#include "tokenizers/golden_support.hpp"

using namespace hoprag;
using namespace hoprag::tokenizers;

namespace {

std::string show(const std::vector<token_id>& v) {
    std::string s;
    for (const auto x : v) s += std::to_string(x) + " ";
    return s;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in.good());
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// A tiny protobuf writer for hand-built models.
std::string varint(std::uint64_t v) {
    std::string s;
    do {
        s.push_back(static_cast<char>((v & 0x7f) | (v >= 0x80 ? 0x80 : 0)));
        v >>= 7;
    } while (v);
    return s;
}
std::string vfield(std::uint32_t f, std::uint64_t v) { return varint(std::uint64_t{f} << 3) + varint(v); }
std::string lfield(std::uint32_t f, const std::string& payload) { return varint((std::uint64_t{f} << 3) | 2) + varint(payload.size()) + payload; }
std::string ffield(std::uint32_t f, float x) {
    std::uint32_t u;
    std::memcpy(&u, &x, 4);
    std::string s = varint((std::uint64_t{f} << 3) | 5);
    for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>((u >> (8 * i)) & 0xff));
    return s;
}
std::string piece(const std::string& p, float score, int type = 1) { return lfield(1, lfield(1, p) + ffield(2, score) + vfield(3, static_cast<std::uint64_t>(type))); }
std::string trainer(int model_type, bool byte_fallback = false) { return lfield(2, vfield(3, static_cast<std::uint64_t>(model_type)) + vfield(35, byte_fallback)); }
std::string normalizer(const std::string& name, bool dummy, bool extra) { return lfield(3, lfield(1, name) + vfield(3, dummy) + vfield(4, extra)); }

// unk, <s>, </s>, a, b, c, ab, bc with the given scores of ab and bc; no dummy prefix.
std::string abc_model(float ab, float bc) {
    return piece("<unk>", 0, 2) + piece("<s>", 0, 3) + piece("</s>", 0, 3) + piece("a", -10) + piece("b", -11) + piece("c", -12) +
           piece("ab", ab) + piece("bc", bc) + trainer(2) + normalizer("identity", false, false);
}

tokenizer from_bytes(const std::string& bytes) { return tokenizer(spec_from_sentencepiece(parse_sentencepiece_model(bytes, "hand.model"), "hand.model")); }

template <class E>
std::string message_of(const std::string& bytes) {
    try {
        (void)from_bytes(bytes);
    } catch (const E& e) {
        return e.what();
    }
    FAIL("no exception of the expected type for a bad model");
    return {};
}

}  // namespace

TEST_CASE("SentencePiece BPE tokenizer.model: ids equal sp.encode on all golden inputs, lossless round trips", "[tokenizers][golden][spm]") {
    const auto path = test::golden_path("spm_tiny_bpe.model");
    const auto m = read_sentencepiece_model(path);
    CHECK(m.pieces.size() == 1000);
    CHECK(m.model_type == 2);
    CHECK(m.byte_fallback);
    CHECK(m.normalizer_name == "identity");
    CHECK(m.add_dummy_prefix);
    CHECK_FALSE(m.remove_extra_whitespaces);
    CHECK(m.pieces[0].type == sentencepiece_piece::unknown);
    CHECK(m.pieces[1].piece == "<s>");
    CHECK(m.pieces[1].type == sentencepiece_piece::control);
    CHECK(m.pieces[3].piece == "<0x00>");
    CHECK(m.pieces[258].type == sentencepiece_piece::byte);

    // Through load_tokenizer: the file, and a folder holding only tokenizer.model.
    const auto dir = std::filesystem::path(test::binary_dir()) / "tests" / "spm_model_folder";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    std::filesystem::copy_file(path, dir / "tokenizer.model");
    const tokenizer tok = load_tokenizer(path);
    const tokenizer from_dir = load_tokenizer(dir);
    CHECK(tok.vocab_size() == 1000);

    const auto inputs = test::golden_inputs();
    const auto want = test::golden_ids("spm_tiny_bpe.ids");
    REQUIRE(inputs.size() >= 2000);
    REQUIRE(want.size() == inputs.size());
    std::size_t mismatches = 0, byte_tokens = 0;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        const auto got = tok.encode(inputs[i], false).ids;
        if (got != want[i] && ++mismatches <= 5) {
            INFO("input " << i << ": " << nlohmann::json(inputs[i]).dump() << "\n got  " << show(got) << "\n want " << show(want[i]));
            CHECK(got == want[i]);
        }
        for (const auto id : want[i]) byte_tokens += (id >= 3 && id < 259);
        INFO("input " << i << ": " << nlohmann::json(inputs[i]).dump());
        REQUIRE(tok.decode(want[i]) == inputs[i]);  // the script checked sp.decode gives back every input
        if (i % 50 == 0) {
            CHECK(from_dir.encode(inputs[i], false).ids == want[i]);
            auto with_bos = want[i];
            with_bos.insert(with_bos.begin(), 1);  // sp.encode(add_bos=True)
            CHECK(tok.encode(inputs[i], true).ids == with_bos);
        }
    }
    INFO(mismatches << " of " << inputs.size() << " inputs differ");
    REQUIRE(mismatches == 0);
    CHECK(byte_tokens > 100);  // the inputs exercise byte fallback
    // Control pieces are text to SentencePiece, and decode drops them.
    CHECK(tok.encode("<s>", false).ids.size() > 1);
    auto framed = tok.encode("hello", false).ids;
    framed.insert(framed.begin(), 1);
    framed.push_back(2);
    CHECK(tok.decode(framed) == "hello");
}

TEST_CASE("SentencePiece BPE with remove_extra_whitespaces and no dummy prefix equals sp.encode / sp.decode", "[tokenizers][golden][spm]") {
    const auto path = test::golden_path("spm_tiny_bpe_ws.model");
    const auto m = read_sentencepiece_model(path);
    CHECK(m.remove_extra_whitespaces);
    CHECK_FALSE(m.add_dummy_prefix);
    const tokenizer tok = load_tokenizer(path);
    const auto inputs = test::golden_inputs();
    const auto want = test::golden_ids("spm_tiny_bpe_ws.ids");
    const auto text = test::read_lines(test::golden_path("spm_tiny_bpe_ws_decode.jsonl"));
    REQUIRE(want.size() == 700);
    REQUIRE(text.size() == 700);
    std::size_t mismatches = 0, collapsed = 0;
    for (std::size_t i = 0; i < want.size(); ++i) {
        const auto got = tok.encode(inputs[i], false).ids;
        if (got != want[i] && ++mismatches <= 5) {
            INFO("input " << i << ": " << nlohmann::json(inputs[i]).dump() << "\n got  " << show(got) << "\n want " << show(want[i]));
            CHECK(got == want[i]);
        }
        const auto decoded = nlohmann::json::parse(text[i]).get<std::string>();
        collapsed += decoded != inputs[i];
        INFO("decode of input " << i);
        CHECK(tok.decode(want[i]) == decoded);
    }
    REQUIRE(mismatches == 0);
    CHECK(collapsed > 5);  // the inputs exercise the whitespace folding
}

TEST_CASE("SentencePiece BPE merges by piece score, leftmost among equal scores", "[tokenizers][spm]") {
    // "abc": ab and bc compete; the pair whose piece has the higher score merges first.
    CHECK(from_bytes(abc_model(-1, -2)).encode("abc", false).ids == std::vector<token_id>{6, 5});
    CHECK(from_bytes(abc_model(-2, -1)).encode("abc", false).ids == std::vector<token_id>{3, 7});
    CHECK(from_bytes(abc_model(-1, -1)).encode("abc", false).ids == std::vector<token_id>{6, 5});
    // Longer words (the heap path) follow the same rule.
    CHECK(from_bytes(abc_model(-2, -1)).encode("abcabcabcabc", false).ids == std::vector<token_id>{3, 7, 3, 7, 3, 7, 3, 7});
    CHECK(from_bytes(abc_model(-1, -1)).encode("abcabcabcabc", false).ids == std::vector<token_id>{6, 5, 6, 5, 6, 5, 6, 5});
    // No byte fallback: an unknown character is <unk>, a run of them one <unk>; decode drops control pieces.
    const auto tok = from_bytes(abc_model(-1, -2));
    CHECK(tok.encode("axxb", false).ids == std::vector<token_id>{3, 0, 4});
    CHECK(tok.encode("ab", true).ids == std::vector<token_id>{1, 6});
    CHECK(tok.decode(std::vector<token_id>{1, 6, 5, 2}) == "abc");
}

TEST_CASE("SentencePiece models hoprag does not implement are refused with a config_error", "[tokenizers][spm]") {
    const std::string pieces = piece("<unk>", 0, 2) + piece("a", -1);
    CHECK_THAT(message_of<config_error>(pieces + trainer(1)), Catch::Contains("Unigram"));
    CHECK_THAT(message_of<config_error>(pieces), Catch::Contains("Unigram"));  // model_type defaults to UNIGRAM
    CHECK_THAT(message_of<config_error>(pieces + trainer(3)), Catch::Contains("model_type 3"));
    CHECK_THAT(message_of<config_error>(pieces + trainer(2) + normalizer("nmt_nfkc", true, true)), Catch::Contains("nmt_nfkc"));
    CHECK_THAT(message_of<config_error>(pieces + trainer(2) + lfield(3, lfield(2, "xyz"))), Catch::Contains("3-byte charsmap"));
    CHECK_THAT(message_of<config_error>(pieces + piece("<x>", 0, 4) + trainer(2)), Catch::Contains("USER_DEFINED piece \"<x>\""));
    CHECK_THAT(message_of<config_error>(pieces + piece("<y>", 0, 5) + trainer(2)), Catch::Contains("UNUSED"));
    CHECK_THAT(message_of<config_error>(pieces + lfield(2, vfield(3, 2) + vfield(24, 1))), Catch::Contains("treat_whitespace_as_suffix"));
    // Inconsistent models are format_errors.
    CHECK_THAT(message_of<format_error>(piece("a", -1) + trainer(2)), Catch::Contains("no UNKNOWN piece"));
    CHECK_THAT(message_of<format_error>(pieces + piece("<0x41>", 0, 6) + trainer(2)), Catch::Contains("without byte_fallback"));
    CHECK_THAT(message_of<format_error>(pieces + piece("a", -2) + trainer(2)), Catch::Contains("appears twice"));
    CHECK_THAT(message_of<format_error>(pieces + lfield(2, vfield(3, 2) + vfield(41, 7))), Catch::Contains("bos_id 7"));
}

TEST_CASE("Malformed protobuf gives a format_error naming the file and byte offset", "[tokenizers][spm]") {
    const std::string good = piece("<unk>", 0, 2) + piece("a", -1) + trainer(2);
    CHECK_NOTHROW(from_bytes(good));
    // A length running past the end: the offset is that of the length varint.
    CHECK_THAT(message_of<format_error>(good + "\x0a\x05" "ab"), Catch::Contains("hand.model: byte offset " + std::to_string(good.size() + 1) + ": length 5 runs past"));
    CHECK_THAT(message_of<format_error>(good + "\x48"), Catch::Contains("byte offset " + std::to_string(good.size() + 1) + ": truncated varint"));
    CHECK_THAT(message_of<format_error>(good + "\x48\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f"), Catch::Contains("varint longer than 64 bits"));
    CHECK_THAT(message_of<format_error>(good + "\x4b"), Catch::Contains("groups are not supported"));
    CHECK_THAT(message_of<format_error>(good + "\x0f"), Catch::Contains("invalid wire type 7"));
    CHECK_THAT(message_of<format_error>(good + std::string(1, '\0')), Catch::Contains("invalid field number 0"));
    CHECK_THAT(message_of<format_error>(good + "\x4d" "ab"), Catch::Contains("truncated fixed32"));
    CHECK_THAT(message_of<format_error>(good + "\x08\x01"), Catch::Contains("pieces (field 1) has wire type 0, expected 2"));
    // Inside a nested message, offsets stay absolute: piece 2's bad type varint sits at good.size() + 3
    // (key and length of the piece, then the type's key).
    CHECK_THAT(message_of<format_error>(good + lfield(1, vfield(3, 9))), Catch::Contains("byte offset " + std::to_string(good.size() + 3) + ": piece 2 has type 9"));
    CHECK_THAT(message_of<format_error>(good + lfield(1, ffield(2, 1.0f))), Catch::Contains("piece 2 has an empty string"));
    CHECK_THAT(message_of<format_error>(std::string()), Catch::Contains("no pieces"));
    CHECK_THROWS_AS(read_sentencepiece_model(test::binary_dir() + "/no/such/tokenizer.model"), io_error);
}

TEST_CASE("Damaged tokenizer.model files give typed errors, never a crash", "[tokenizers][spm]") {
    const std::string bytes = read_file(test::golden_path("spm_tiny_bpe.model"));
    std::size_t errors = 0, loaded = 0;
    const auto attempt = [&](const std::string& b) {
        try {
            (void)from_bytes(b);
            ++loaded;
        } catch (const hoprag::error&) {
            ++errors;
        }
    };
    for (std::size_t n = 0; n < bytes.size(); n += 37) attempt(bytes.substr(0, n));  // truncations
    std::mt19937 rng(7);
    for (int k = 0; k < 150; ++k) {  // random byte changes
        std::string b = bytes;
        for (int j = 0; j < 3; ++j) b[rng() % b.size()] = static_cast<char>(rng() & 0xff);
        attempt(b);
    }
    CHECK(errors > 300);
    CHECK(loaded + errors == (bytes.size() + 36) / 37 + 150);
}
