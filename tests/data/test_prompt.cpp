// data/prompt.hpp with SmolLM2's real tokenizer: the exact prompt of a known bundle (plain and
// ChatML), the labels mask (ignore_label on every prompt token, the target and <|im_end|> labelled,
// decoding back to the target), fitting (lowest-scored non-gold passages dropped first, then gold,
// renumbered citations, the target never cut, config_error when nothing fits), length buckets and
// the held-out split rule (checked against an independent FNV-1a written here).
#include <catch2/catch.hpp>

#include <algorithm>
#include <numeric>
#include <set>

#include "hoprag/data/heldout_split.hpp"
#include "hoprag/data/hotpotqa.hpp"
#include "hoprag/data/prompt.hpp"
#include "hoprag/tokenizers/load_tokenizer.hpp"
#include "support/reference.hpp"

using namespace hoprag;
using data::passage;

namespace {

const tokenizers::tokenizer& smollm2() {
    static const auto t = tokenizers::load_tokenizer(test::source_dir() + "/.cache/models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf");
    return t;
}

std::vector<passage> known_passages() {
    return {{.title = "Woman's Day", .text = "Woman's Day is an American magazine.\nIt was first published in 1931.", .score = -2, .gold = true},
            {.title = "Tros of Samothrace", .text = "Tros is a character.", .score = 0, .gold = false},
            {.title = "The Lady (magazine)", .text = "The Lady is a British weekly magazine founded in 1885.", .score = -1, .gold = true}};
}

}  // namespace

TEST_CASE("prompt text of a known bundle, plain and chat", "[prompt]") {
    const auto ps = known_passages();
    const std::string body =
        "[Question]\nWhich magazine was published first, Woman's Day or The Lady?\n[Evidence]\n"
        "[1] Woman's Day: Woman's Day is an American magazine. It was first published in 1931.\n"
        "[2] Tros of Samothrace: Tros is a character.\n"
        "[3] The Lady (magazine): The Lady is a British weekly magazine founded in 1885.\n"
        "[Instruction]\nAnswer concisely using the evidence. If unsure, say \"insufficient context\". Respond with: <answer> and "
        "cite indices like [1], [3].\n";
    const std::string q = "Which magazine was published first, Woman's Day or The Lady?";
    CHECK(data::prompt_text(q, ps) == body);
    // the ids are those of the whole text encoded at once (ChatML markers are added tokens)
    const auto& tok = smollm2();
    const auto chatml = tokenizers::chat_family::chatml;
    CHECK(data::prompt_ids(tok, q, ps, data::prompt_format::plain, chatml) == tok.encode(body + "<answer>", false).ids);
    CHECK(data::prompt_ids(tok, q, ps, data::prompt_format::chat, chatml) ==
          tok.encode("<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\n" +
                         body.substr(0, body.size() - 1) + "<|im_end|>\n<|im_start|>assistant\n<answer>",
                     false)
              .ids);
    CHECK(data::target_text("The Lady", {1, 3}) == "The Lady [1], [3]");
    CHECK(data::target_text("yes", {}) == "insufficient context");
}

TEST_CASE("encode_example: labels only on the target and the end token", "[prompt]") {
    const auto& tok = smollm2();
    const auto ps = known_passages();
    for (const auto format : {data::prompt_format::chat, data::prompt_format::plain}) {
        data::prompt_options o;
        o.format = format;
        const auto ex = data::encode_example(tok, "Which magazine was published first?", ps, std::string_view("The Lady"), o);
        REQUIRE(ex.ids.size() == ex.labels.size());
        CHECK(ex.dropped == 0);
        CHECK(ex.citations == std::vector<int>{1, 3});
        CHECK(ex.target == "The Lady [1], [3]");
        REQUIRE(ex.prompt_tokens < ex.ids.size());
        for (std::size_t t = 0; t < ex.ids.size(); ++t) {
            INFO("token " << t);
            CHECK(ex.labels[t] == (t < ex.prompt_tokens ? data::ignore_label : ex.ids[t]));
        }
        const std::vector<std::int32_t> prompt(ex.ids.begin(), ex.ids.begin() + std::ptrdiff_t(ex.prompt_tokens));
        const std::vector<std::int32_t> target(ex.ids.begin() + std::ptrdiff_t(ex.prompt_tokens), ex.ids.end());
        CHECK(prompt == data::prompt_ids(tok, "Which magazine was published first?", ps, format, tokenizers::chat_family::chatml));
        CHECK(tok.decode(target, false) == "The Lady [1], [3]<|im_end|>");
        CHECK(target.back() == *tok.token_to_id("<|im_end|>"));
        // inference: the same prompt ids, no labels beyond them
        const auto inf = data::encode_example(tok, "Which magazine was published first?", ps, std::nullopt, o);
        CHECK(inf.ids == prompt);
        CHECK(inf.prompt_tokens == inf.ids.size());
        CHECK(std::all_of(inf.labels.begin(), inf.labels.end(), [](std::int32_t l) { return l == data::ignore_label; }));
        CHECK(inf.target.empty());
    }
    data::prompt_options bad;
    bad.family = tokenizers::chat_family::llama3;  // SmolLM2 has no <|eot_id|>
    CHECK_THROWS_WITH(data::encode_example(tok, "q", ps, std::string_view("a"), bad), Catch::Contains("<|eot_id|>"));
}

TEST_CASE("encode_example fits by dropping the lowest-scored non-gold passages first", "[prompt]") {
    const auto& tok = smollm2();
    // 6 passages in display order; scores scrambled (score = -rank); gold at display 2 and 5
    std::vector<passage> ps;
    const std::size_t ranks[] = {3, 5, 0, 4, 1, 2};
    for (std::size_t i = 0; i < 6; ++i)
        ps.push_back({.title = "Title " + std::to_string(i), .text = "Some passage text number " + std::to_string(i) + " with a few words in it.",
                      .score = -float(ranks[i]), .gold = i == 1 || i == 4});
    const std::string_view answer = "a fairly long answer that must never be truncated by the fitter";
    data::prompt_options o;
    const auto full = data::encode_example(tok, "What?", ps, answer, o);
    REQUIRE(full.dropped == 0);
    CHECK(full.citations == std::vector<int>{2, 5});
    // sizes with the expected passages removed, computed by encoding directly
    auto size_without = [&](std::vector<std::size_t> keep) {
        std::vector<passage> shown;
        std::vector<int> cites;
        for (std::size_t n = 0; n < keep.size(); ++n) {
            shown.push_back(ps[keep[n]]);
            if (ps[keep[n]].gold) cites.push_back(int(n + 1));
        }
        return data::prompt_ids(tok, "What?", shown, o.format, tokenizers::chat_family::chatml).size() +
               tok.encode(data::target_text(answer, cites), false).ids.size() + 1;
    };
    // non-gold by worst rank: display 3 (rank 4), display 0 (rank 3), display 5 (rank 2), display 2 (rank 0);
    // then gold: display 1 (rank 5), display 4 (rank 1)
    const std::vector<std::vector<std::size_t>> expected = {
        {0, 1, 2, 4, 5}, {1, 2, 4, 5}, {1, 2, 4}, {1, 4}, {4}, {}};
    for (std::size_t k = 0; k < expected.size(); ++k) {
        o.max_tokens = size_without(expected[k]);
        const auto ex = data::encode_example(tok, "What?", ps, answer, o);
        INFO("budget " << o.max_tokens);
        CHECK(ex.kept == expected[k]);
        CHECK(ex.ids.size() <= o.max_tokens);
        CHECK(ex.dropped == 6 - expected[k].size());
        const std::vector<std::int32_t> target(ex.ids.begin() + std::ptrdiff_t(ex.prompt_tokens), ex.ids.end() - 1);
        const std::string t = tok.decode(target, false);
        if (ex.kept.size() > 1 || (ex.kept.size() == 1 && ps[ex.kept[0]].gold))
            CHECK(t.substr(0, answer.size()) == answer);  // the answer is whole
        else
            CHECK(t == "insufficient context");  // no gold passage kept: the target abstains
        std::vector<int> want;
        for (std::size_t n = 0; n < ex.kept.size(); ++n)
            if (ps[ex.kept[n]].gold) want.push_back(int(n + 1));
        CHECK(ex.citations == want);
        CHECK(t == data::target_text(answer, want));
    }
    // gold_first off (inference over retrieval, gold unknown): by score alone, so gold display 1 (rank 5) goes first
    o.gold_first = false;
    o.max_tokens = size_without({0, 2, 3, 4, 5});
    CHECK(data::encode_example(tok, "What?", ps, answer, o).kept == std::vector<std::size_t>{0, 2, 3, 4, 5});
    o.gold_first = true;
    o.max_tokens = size_without({}) - 1;
    CHECK_THROWS_AS(data::encode_example(tok, "What?", ps, answer, o), config_error);
    // inference keeps generation_reserve tokens free
    o.max_tokens = 200;
    o.generation_reserve = 40;
    const auto inf = data::encode_example(tok, "What?", ps, std::nullopt, o);
    CHECK(inf.ids.size() + 40 <= 200);
}

TEST_CASE("length_buckets groups similar lengths, covers every index once, deterministic", "[prompt]") {
    std::vector<std::size_t> lengths(23);
    for (std::size_t i = 0; i < lengths.size(); ++i) lengths[i] = (i * 37) % 101;
    const auto b = data::length_buckets(lengths, 4, 7);
    CHECK(b.size() == 6);
    std::vector<std::size_t> all;
    std::vector<std::pair<std::size_t, std::size_t>> ranges;  // (min, max) per batch
    for (const auto& g : b) {
        CHECK(!g.empty());
        CHECK(g.size() <= 4);
        std::size_t lo = 1000, hi = 0;
        for (auto i : g) all.push_back(i), lo = std::min(lo, lengths[i]), hi = std::max(hi, lengths[i]);
        ranges.push_back({lo, hi});
    }
    std::sort(all.begin(), all.end());
    std::vector<std::size_t> want(23);
    std::iota(want.begin(), want.end(), std::size_t{0});
    CHECK(all == want);
    std::sort(ranges.begin(), ranges.end());
    for (std::size_t i = 1; i < ranges.size(); ++i) CHECK(ranges[i - 1].second <= ranges[i].first);  // no overlap
    CHECK(data::length_buckets(lengths, 4, 7) == b);
    CHECK(data::length_buckets(lengths, 4, 8) != b);  // the seed shuffles batch order
    CHECK(data::length_buckets(lengths, 1, 0).size() == 23);
    CHECK_THROWS_AS(data::length_buckets(lengths, 0, 0), config_error);
}

TEST_CASE("held-out split: fnv1a64 of _id modulo 8, over the shared dev sample", "[prompt][split]") {
    // independent FNV-1a 64 loop with the project's offset basis 1469598103934665603 (hoprag::fnv1a64;
    // note: not the standard basis 14695981039346656037)
    auto fnv = [](const std::string& s) {
        unsigned long long h = 1469598103934665603ull;
        for (unsigned char c : s) h ^= c, h *= 0x100000001b3ull;
        return h;
    };
    for (const std::string id : {"5a8a547d55429970aeb70293", "", "x", "5ac07327554299012d1db5f2"})
        CHECK(data::is_heldout(id) == (fnv(id) % 8 == 0));
    const auto dev = data::load_all(test::source_dir() + "/../shared/data/hotpotqa/hotpot_dev_sample.jsonl");
    REQUIRE(dev.size() == 940);
    const auto held = data::select_split(dev, data::split_part::heldout);
    const auto rest = data::select_split(dev, data::split_part::training);
    CHECK(held.size() == 105);
    CHECK(held.size() + rest.size() == dev.size());
    std::set<std::string> ids;
    for (const auto& r : held) {
        ids.insert(r.id);
        CHECK(fnv(r.id) % 8 == 0);
    }
    for (const auto& r : rest) CHECK(!ids.count(r.id));
    CHECK_THROWS_AS(data::is_heldout("a", 0), config_error);
    // the names every program's --split takes, and in_split agreeing with select_split
    CHECK(data::parse_split_part("held-out") == data::split_part::heldout);
    CHECK(data::parse_split_part("heldout") == data::split_part::heldout);
    CHECK(data::parse_split_part("train") == data::split_part::training);
    CHECK(data::parse_split_part("training") == data::split_part::training);
    CHECK(data::parse_split_part("all") == data::split_part::all);
    CHECK_THROWS_AS(data::parse_split_part("dev"), config_error);
    for (const auto& r : dev) {
        CHECK(data::in_split(r.id, data::split_part::heldout) == ids.count(r.id) > 0);
        CHECK(data::in_split(r.id, data::split_part::training) == !ids.count(r.id));
        CHECK(data::in_split(r.id, data::split_part::all));
    }
}
