// Unit tests of the tokenizer pieces on hand-checked cases: UTF-8 handling, character classes,
// the GPT-2 pre-tokeniser, BPE merge order, truncation, chat templates and error messages.
#include <catch2/catch.hpp>

#include <iostream>
#include <random>
#include <vector>

#include "hoprag/tokenizers/chat_template.hpp"
#include "hoprag/tokenizers/tokenizer_json.hpp"
#include "tokenizers/golden_support.hpp"

using namespace hoprag;
using namespace hoprag::tokenizers;

namespace {
std::vector<std::string> gpt2_pieces(const std::string& s) {
    const auto cps = utf8_decode(s);
    std::vector<std::string> out;
    gpt2_split(cps, [&](std::size_t b, std::size_t e) { out.push_back(utf8_encode(std::u32string_view(cps).substr(b, e - b))); });
    return out;
}
}  // namespace

TEST_CASE("UTF-8 decode rejects malformed input with the byte offset", "[tokenizers]") {
    CHECK(utf8_decode("a\xC3\xA9\xF0\x9F\x98\x80") == U"a\u00e9\U0001F600");
    CHECK(utf8_encode(U"a\u00e9\U0001F600") == "a\xC3\xA9\xF0\x9F\x98\x80");
    CHECK_THROWS_WITH(utf8_decode("ok\xC3"), Catch::Contains("invalid UTF-8 at byte 2"));
    CHECK_THROWS_AS(utf8_decode("\xED\xA0\x80"), format_error);  // a surrogate
    CHECK_THROWS_AS(utf8_decode("\xC0\xAF"), format_error);      // overlong
}

TEST_CASE("lossy UTF-8 replaces each maximal invalid subsequence", "[tokenizers]") {
    CHECK(utf8_lossy("abc") == "abc");
    CHECK(utf8_lossy("a\xE2\x82" "b") == "a\xEF\xBF\xBD" "b");      // truncated 3-byte sequence: one U+FFFD
    CHECK(utf8_lossy("\x80\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD");  // two stray continuation bytes
    CHECK(utf8_lossy("\xF0\x9F\x98\x80") == "\xF0\x9F\x98\x80");
}

TEST_CASE("character classes follow the Unicode tables", "[tokenizers]") {
    CHECK(is_letter(U'a'));
    CHECK(is_letter(U'\u00e9'));
    CHECK(is_letter(U'\u4e2d'));
    CHECK_FALSE(is_letter(U'1'));
    CHECK(is_number(U'\u0663'));  // Arabic-Indic three
    CHECK(is_number(U'\u00bd'));  // vulgar fraction one half (No)
    CHECK(is_whitespace(U'\u3000'));
    CHECK_FALSE(is_whitespace(U'\u200b'));
    CHECK(is_bert_punctuation(U'$'));  // ASCII symbol counted as punctuation by BERT
    CHECK(is_bert_punctuation(U'\u00bf'));
    CHECK_FALSE(is_bert_punctuation(U'\u20ac'));  // Sc, not ASCII
    CHECK(is_bert_control(U'\u200b'));            // Cf
    CHECK_FALSE(is_bert_control(U'\n'));
    CHECK(is_cjk(U'\u4e2d'));
    CHECK_FALSE(is_cjk(U'\u3042'));  // hiragana is not split
}

TEST_CASE("BERT normalizer strips accents and lower-cases", "[tokenizers]") {
    const bert_normalizer_options o;
    CHECK(utf8_encode(bert_normalize(utf8_decode("Caf\u00c9 na\u00efve\tX\u0007"), o)) == "cafe naive x");
    CHECK(utf8_encode(bert_normalize(utf8_decode("\u4e2d\u6587"), o)) == " \u4e2d  \u6587 ");
}

TEST_CASE("GPT-2 pre-tokeniser splits like the reference regex", "[tokenizers]") {
    using v = std::vector<std::string>;
    CHECK(gpt2_pieces("Hello world") == v{"Hello", " world"});
    CHECK(gpt2_pieces("I'm don't 'S") == v{"I", "'m", " don", "'t", " '", "S"});
    CHECK(gpt2_pieces("a   b") == v{"a", "  ", " b"});
    CHECK(gpt2_pieces("a\n\nb") == v{"a", "\n", "\n", "b"});
    CHECK(gpt2_pieces("x  ") == v{"x", "  "});
    CHECK(gpt2_pieces("abc123!!? d") == v{"abc", "123", "!!?", " d"});
    CHECK(gpt2_pieces("''s") == v{"''", "s"});
}

TEST_CASE("BPE merges lowest rank first, leftmost among equals", "[tokenizers]") {
    const vocabulary vocab({"a", "b", "c", "ab", "bc", "abc", "aa", "aaa"});
    const std::vector<merge_rule> merges{{"b", "c"}, {"a", "b"}, {"a", "bc"}, {"a", "a"}, {"aa", "a"}};
    const bpe_model m(vocab, merges, {});
    std::vector<token_id> out;
    m.encode_word("abc", vocab, out);  // b c (rank 0) first, then a bc
    CHECK(out == std::vector<token_id>{5});
    out.clear();
    m.encode_word("aaaa", vocab, out);  // a a at 0, then a a at 2
    CHECK(out == std::vector<token_id>{6, 6});
    out.clear();
    m.encode_word("aaaaaaaaaaaaa", vocab, out);  // 13 chars, heap path: six "aa" + "a", then "aa a" at the end
    CHECK(out == std::vector<token_id>{6, 6, 6, 6, 6, 7});
    out.clear();
    m.encode_word("aaaaaaa", vocab, out);  // 7 chars, scan path, same rule
    CHECK(out == std::vector<token_id>{6, 6, 7});
    CHECK_THROWS_WITH(bpe_model(vocab, {{"a", "c"}}, {}), Catch::Contains("\"ac\""));
}

TEST_CASE("pair truncation is longest_first and type ids mark the second text", "[tokenizers]") {
    const auto tok = load_tokenizer_json(test::model_path("all-minilm-l6-v2"));
    const auto e = tok.encode_pair("what is the capital of france", "paris is the capital and most populous city of france", 12);
    REQUIRE(e.ids.size() == 12);
    CHECK(e.ids.front() == 101);
    CHECK(e.ids.back() == 102);
    // 9 tokens left for texts of 6 and 10: (6, 10) -> halves 4 and 5.
    CHECK(e.type_ids == std::vector<std::int32_t>{0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1});
    const auto single = tok.encode("one two three four five six seven", true, 5);
    CHECK(single.ids.size() == 5);
    CHECK(tok.decode(single.ids) == "one two three");
    CHECK(tok.encode("[CLS]", false).ids == std::vector<token_id>{101});
    CHECK_THROWS_WITH(tok.decode(std::vector<token_id>{5, 30522}), Catch::Contains("token id 30522 is outside the vocabulary"));
    std::vector<std::string> texts{"a", "b c"};
    const auto batch = tok.encode_batch(texts);
    REQUIRE(batch.size() == 2);
    CHECK(batch[1].ids == tok.encode("b c").ids);
}

TEST_CASE("bad tokenizer.json files give typed errors naming the problem", "[tokenizers]") {
    CHECK_THROWS_AS(parse_tokenizer_json("{not json", "t.json"), format_error);
    CHECK_THROWS_WITH(parse_tokenizer_json("{}", "t.json"), Catch::Contains("missing field \"model\""));
    CHECK_THROWS_WITH(parse_tokenizer_json(R"({"model":{"type":"Unigram","vocab":{}}})", "t.json"), Catch::Contains("Unigram"));
    CHECK_THROWS_WITH(parse_tokenizer_json(R"({"model":{"type":"BPE","vocab":{"a":0,"b":0},"merges":[]}})", "t.json"),
                      Catch::Contains("id 0 is used by"));
    CHECK_THROWS_AS(parse_tokenizer_json(R"({"model":{"type":"BPE","vocab":{"a":-3},"merges":[]}})", "t.json"), format_error);
    CHECK_THROWS_AS(parse_tokenizer_json(R"({"model":{"type":"BPE","vocab":{"a":0},"merges":[3]}})", "t.json"), format_error);
    CHECK_THROWS_AS(parse_tokenizer_json(R"({"model":{"type":"BPE","vocab":["a"],"merges":[]}})", "t.json"), format_error);
    CHECK_THROWS_AS(tokenizer(parse_tokenizer_json(R"({"model":{"type":"WordPiece","vocab":{"a":0}}})", "t.json")), format_error);
    CHECK_THROWS_AS(load_tokenizer_json("/nonexistent/tokenizer.json"), io_error);
    CHECK_THROWS_WITH(parse_tokenizer_json(R"({"model":{"type":"BPE","vocab":{"a":0},"merges":[]},
        "added_tokens":[{"id":0,"content":"a","lstrip":true}]})", "t.json"), Catch::Contains("lstrip"));
}

TEST_CASE("chat templates give the strings of the SmolLM2, Mistral and Llama-3 templates", "[tokenizers]") {
    const std::vector<chat_message> one{{"user", "Who wrote Hamlet?"}};
    CHECK(apply_chatml(one, true) ==
          "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
          "<|im_start|>user\nWho wrote Hamlet?<|im_end|>\n<|im_start|>assistant\n");
    const std::vector<chat_message> sys{{"system", "Answer briefly."}, {"user", "Capital of France?"}, {"assistant", "Paris."}};
    CHECK(apply_chatml(sys, false) ==
          "<|im_start|>system\nAnswer briefly.<|im_end|>\n<|im_start|>user\nCapital of France?<|im_end|>\n"
          "<|im_start|>assistant\nParis.<|im_end|>\n");
    const std::vector<chat_message> turns{{"user", "Hi"}, {"assistant", "Hello!"}, {"user", "A joke?"}};
    CHECK(apply_mistral(turns) == "<s>[INST] Hi [/INST]Hello!</s>[INST] A joke? [/INST]");
    CHECK_THROWS_AS(apply_mistral(sys), config_error);
    const std::vector<chat_message> twice{{"user", "a"}, {"user", "b"}};
    CHECK_THROWS_WITH(apply_mistral(twice), Catch::Contains("alternate"));
    // The markers are single added tokens of the real tokenizers.
    const auto spm = load_tokenizer_json(test::golden_path("spm_tiny_tokenizer.json"));
    const auto ids = spm.encode(apply_mistral(turns), false).ids;
    CHECK(ids.front() == 1);
    CHECK(std::count(ids.begin(), ids.end(), 2) == 1);
    // user_turn_ids: a tokenizer with <s> and </s> but no <|im_start|> gets the Mistral form
    REQUIRE(detect_chat_family(spm) == chat_family::mistral);
    const auto turn = user_turn_ids(spm, chat_family::mistral, "A joke?");
    CHECK(turn.front() == 1);
    CHECK(spm.decode(turn, true) == "[INST] A joke? [/INST]");
    CHECK(apply_llama3(turns, true) ==
          "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"
          "Hello!<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nA joke?<|eot_id|>"
          "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

TEST_CASE("mutated tokenizer.json files give hoprag errors or work, never crash", "[tokenizers]") {
    std::string good;
    for (const auto& line : test::read_lines(test::golden_path("spm_tiny_tokenizer.json"))) good += line + "\n";
    std::mt19937_64 rng(2024);  // fixed seed: the same 150 mutations every run
    const auto uniform = [&] { return std::uniform_real_distribution<double>(0.0, 1.0)(rng); };
    std::size_t rejected = 0, loaded = 0;
    const std::string probe = "Hello  w\u00f6rld 123 <s>\xF0\x9F\x98\x80";
    for (std::uint64_t k = 0; k < 150; ++k) {
        std::string text = good;
        const auto at = [&](int) { return static_cast<std::size_t>(uniform() * double(text.size() - 1)); };
        switch (k % 3) {
        case 0: text.resize(at(0)); break;                                                // truncation
        case 1:  // a byte flip: any byte, or (mostly) a letter so that the JSON often stays valid
            text[at(0)] = k % 4 == 1 ? static_cast<char>(uniform() * 256) : static_cast<char>('a' + int(uniform() * 26));
            break;
        default: {                                                                       // splice a JSON value
            static const char* values[] = {"-1", "null", "[]", "{}", "\"\"", "1e30", "\"x y\"", "99999999"};
            const auto pos = text.find(':', at(0));
            if (pos != std::string::npos) text.insert(pos + 1, std::string(values[k % 8]) + ",\"z\":");
        }
        }
        try {
            const tokenizer tok(parse_tokenizer_json(text, "mutated.json"));
            const auto ids = tok.encode(probe).ids;
            (void)tok.decode(ids, false);
            ++loaded;
        } catch (const hoprag::error&) {
            ++rejected;
        }
    }
    INFO(loaded << " loaded, " << rejected << " rejected");
    CHECK(rejected > 30);
    CHECK(loaded > 0);
    CHECK(loaded + rejected == 150);
}

TEST_CASE("structurally mutated tokenizer.json values give hoprag errors or work, never crash", "[tokenizers]") {
    const auto good = nlohmann::json::parse(test::read_lines(test::golden_path("spm_tiny_tokenizer.json")).at(0));
    std::mt19937_64 rng(77);
    const auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
    std::vector<std::string> keys;
    for (const auto& [k, v] : good["model"]["vocab"].items()) keys.push_back(k);
    const nlohmann::json odd[] = {-1, 0, 3, 100000, "", "x", nullptr, nlohmann::json::array(), nlohmann::json::object(), true};
    std::size_t rejected = 0, loaded = 0;
    for (int k = 0; k < 120; ++k) {
        auto j = good;
        switch (k % 6) {
        case 0: j["model"]["vocab"].erase(keys[pick(keys.size())]); break;
        case 1: j["model"]["vocab"][keys[pick(keys.size())]] = odd[pick(10)]; break;
        case 2: j["model"]["merges"][pick(j["model"]["merges"].size())][pick(2)] = keys[pick(keys.size())]; break;
        case 3: j["model"][std::vector<std::string>{"unk_token", "byte_fallback", "fuse_unk", "type"}[pick(4)]] = odd[pick(10)]; break;
        case 4: j[std::vector<std::string>{"normalizer", "pre_tokenizer", "post_processor", "decoder", "added_tokens"}[pick(5)]] = odd[pick(10)]; break;
        default: j["added_tokens"][pick(3)][std::vector<std::string>{"id", "content", "special"}[pick(3)]] = odd[pick(10)]; break;
        }
        try {
            const tokenizer tok(parse_tokenizer_json(j.dump(), "mutated.json"));
            (void)tok.decode(tok.encode("Hello  w\u00f6rld 123 <s>\xF0\x9F\x98\x80").ids, false);
            ++loaded;
        } catch (const hoprag::error&) {
            ++rejected;
        }
    }
    INFO(loaded << " loaded, " << rejected << " rejected");
    // 20 of the 120 load since ids must be JSON integers (true as an id was once read as 1)
    CHECK(loaded >= 15);
    CHECK(rejected > 20);
}
