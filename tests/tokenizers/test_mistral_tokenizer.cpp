// Mistral-7B's genuine SentencePiece files (from the PyPI mistral-common package, unpacked by
// scripts/setup): tokenizer.model.v1 encodes 500 golden strings as SentencePiece does, and the
// Mistral chat template built by data/prompt.hpp gives mistral-common's own tokens -- the served
// prompt and the whole training sequence up to </s> -- on three HotpotQA prompts, with the v1
// tokenizer ("[INST]" as text; Mistral-7B-Instruct v0.1/v0.2) and the v3-style one ([INST] as a
// control token; v0.3). Goldens: tests/golden/make_mistral_golden.py.
#include <catch2/catch.hpp>

#include <algorithm>

#include "hoprag/data/prompt.hpp"
#include "hoprag/tokenizers/load_tokenizer.hpp"
#include "tokenizers/golden_support.hpp"

using namespace hoprag;
using namespace hoprag::tokenizers;

namespace {

tokenizer mistral(const std::string& file) { return load_tokenizer(test::model_path("mistral-tokenizers/" + file)); }

nlohmann::json chat_golden() {
    std::string text;
    for (const auto& line : test::read_lines(test::golden_path("mistral_chat.json"))) text += line;
    return nlohmann::json::parse(text);
}

}  // namespace

TEST_CASE("Mistral-7B tokenizer.model.v1 encodes like SentencePiece", "[tokenizers][mistral]") {
    const auto tok = mistral("tokenizer.model.v1");
    CHECK(tok.vocab_size() == 32000);
    CHECK(detect_chat_family(tok) == chat_family::mistral);
    const auto inputs = test::golden_inputs();
    const auto want = test::golden_ids("mistral_v1.ids");
    REQUIRE(want.size() == 500);
    std::size_t mismatches = 0;
    for (std::size_t i = 0; i < want.size(); ++i) {
        const auto got = tok.encode(inputs[i], false).ids;
        if (got != want[i] && ++mismatches <= 5) {
            INFO("input " << i << ": " << nlohmann::json(inputs[i]).dump());
            CHECK(got == want[i]);
        }
    }
    CHECK(mismatches == 0);
}

TEST_CASE("the Mistral chat template gives mistral-common's tokens (v1 and v3 tokenizers)", "[tokenizers][mistral]") {
    const auto g = chat_golden();
    const auto& cases = g.at("cases");
    for (const auto& [file, rows] : g.at("tokenizers").items()) {
        const auto tok = mistral(file);
        CHECK(detect_chat_family(tok) == chat_family::mistral);
        const auto open = tok.encode("<answer>", false).ids;
        for (std::size_t k = 0; k < cases.size(); ++k) {
            INFO(file << ", case " << k);
            const auto& c = cases[k];
            const auto& row = rows[k];
            std::vector<data::passage> ps;
            for (const auto& p : c.at("passages"))
                ps.push_back({.title = p.at("title").get<std::string>(), .text = p.at("text").get<std::string>(), .gold = p.at("gold").get<bool>()});
            const auto question = c.at("question").get<std::string>();
            REQUIRE(data::prompt_text(question, ps) == row.at("user").get<std::string>() + "\n");
            const auto serve = row.at("serve").get<std::vector<std::int32_t>>();
            const auto train = row.at("train").get<std::vector<std::int32_t>>();
            CHECK(user_turn_ids(tok, chat_family::mistral, row.at("user").get<std::string>()) == serve);

            data::prompt_options o;  // family read from the tokenizer
            o.max_tokens = 4096;
            const auto ex = data::encode_example(tok, question, ps, c.at("answer").get<std::string>(), o);
            CHECK("<answer>" + ex.target == row.at("reply").get<std::string>());
            CHECK(ex.ids == train);
            CHECK(ex.prompt_tokens == serve.size() + open.size());
            CHECK(ex.ids.back() == 2);  // </s> ends the reply and carries a label
            CHECK(ex.labels.back() == 2);
            CHECK(std::all_of(ex.labels.begin(), ex.labels.begin() + std::ptrdiff_t(ex.prompt_tokens),
                              [](std::int32_t l) { return l == data::ignore_label; }));
            const auto inf = data::encode_example(tok, question, ps, std::nullopt, o);
            CHECK(inf.ids == std::vector<std::int32_t>(train.begin(), train.begin() + std::ptrdiff_t(ex.prompt_tokens)));
        }
    }
}

TEST_CASE("chat family detection, names and end-of-turn tokens", "[tokenizers]") {
    CHECK(parse_chat_family("llama3") == chat_family::llama3);
    CHECK_THROWS_WITH(parse_chat_family("vicuna"), Catch::Contains("chatml, mistral or llama3"));
    CHECK(end_of_turn(chat_family::mistral) == "</s>");
    CHECK(end_of_turn(chat_family::llama3) == "<|eot_id|>");
    const auto smol = load_tokenizer(test::model_path("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf"));
    CHECK(detect_chat_family(smol) == chat_family::chatml);
    const auto minilm = load_tokenizer(test::model_path("all-minilm-l6-v2"));
    CHECK_THROWS_WITH(detect_chat_family(minilm), Catch::Contains("cannot tell the chat template"));
    data::prompt_options o;
    data::set_format(o, "mistral");
    CHECK((o.format == data::prompt_format::chat && o.family == chat_family::mistral));
    data::set_format(o, "plain");
    CHECK((o.format == data::prompt_format::plain && !o.family));
    CHECK_THROWS_WITH(data::set_format(o, "jinja"), Catch::Contains("--format must be"));
}
