// BM25 scoring and training bundles: BM25 against a float64 formula written out here on a
// hand-made corpus (sparse and dense paths agree), deterministic ranking, hard negatives never
// hold a supporting fact, and on the shared dev sample every bundle's target parses back
// (eval/citations.hpp) into the gold answer and exactly the passages holding supporting facts.
#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "hoprag/data/bundle.hpp"
#include "hoprag/data/hotpotqa.hpp"
#include "hoprag/eval/answer_normalize.hpp"
#include "hoprag/eval/citations.hpp"
#include "support/reference.hpp"

using namespace hoprag;
using namespace hoprag::data;

namespace {
std::string sample(const std::string& name) {
    return test::source_dir() + "/../shared/data/hotpotqa/" + name;
}
}  // namespace

TEST_CASE("bm25: scores match the formula in float64", "[data][bm25]") {
    hotpot_record r;
    r.id = "q";
    r.context = {{"Paris", {"Paris is the capital of France.", " It is big."}},
                 {"Lyon", {"Lyon is a city in France."}},
                 {"Cat", {"A cat is an animal, a CAT!"}},
                 {"Empty", {}}};
    const auto c = build_corpus({r}, whitespace_counter{});
    REQUIRE(c.size() == 4);
    // documents as term lists (title + text, lower-cased alphanumeric runs)
    const std::vector<std::vector<std::string>> docs{
        {"paris", "paris", "is", "the", "capital", "of", "france", "it", "is", "big"},
        {"lyon", "lyon", "is", "a", "city", "in", "france"},
        {"cat", "a", "cat", "is", "an", "animal", "a", "cat"},
        {"empty"}};
    double avgdl = 0;
    for (const auto& d : docs) avgdl += double(d.size()) / double(docs.size());
    const std::string question = "What is the capital city of FRANCE, cat?";
    const std::vector<std::string> q{"what", "is", "the", "capital", "city", "of", "france", "cat"};
    std::vector<double> want(docs.size(), 0.0);
    for (const auto& t : q) {
        double df = 0;
        for (const auto& d : docs) df += std::count(d.begin(), d.end(), t) > 0;
        const double idf = std::log(1 + (4 - df + 0.5) / (df + 0.5));
        for (std::size_t i = 0; i < docs.size(); ++i) {
            const double tf = double(std::count(docs[i].begin(), docs[i].end(), t));
            want[i] += idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * double(docs[i].size()) / avgdl));
        }
    }
    const bm25_scorer bm(c);
    const std::vector<std::uint32_t> all{0, 1, 2, 3};
    test::require_close(bm.score(question, c, all), want, 1e-5, 1e-6, "dense path");
    const std::vector<std::uint32_t> some{2, 0};  // any order (the sparse path is checked on the dev corpus)
    const auto s = bm.score(question, c, some);
    CHECK(s[0] == Approx(want[2]));
    CHECK(s[1] == Approx(want[0]));
    const auto ranked = rank_passages(bm, question, c, {3, 1, 0, 2, 0});
    REQUIRE(ranked.passages.size() == 4);
    CHECK(ranked.passages.front() == 0);  // "capital", "the", "of"
    CHECK(ranked.passages.back() == 3);
    CHECK(rank_passages(bm, question, c, all, 2).passages.size() == 2);
    CHECK_THROWS_AS(bm.score(question, build_corpus({}, whitespace_counter{}), {}), config_error);
}

TEST_CASE("bm25: sparse and dense paths agree on the dev corpus", "[data][bm25]") {
    const auto records = load_all(sample("hotpot_dev_sample.jsonl"));
    const auto c = build_corpus(records, whitespace_counter{});
    const bm25_scorer bm(c);
    std::vector<std::uint32_t> all(c.size());
    for (std::uint32_t i = 0; i < all.size(); ++i) all[i] = i;
    for (std::size_t r = 0; r < records.size(); r += 97) {
        const auto ctx = context_passages(c, records[r]);
        const auto dense = bm.score(records[r].question, c, all);
        const auto sparse = bm.score(records[r].question, c, ctx);
        for (std::size_t k = 0; k < ctx.size(); ++k) CHECK(sparse[k] == Approx(dense[ctx[k]]).epsilon(1e-5));
    }
}

TEST_CASE("bundles: hand-made record, targets and yes/no answers", "[data][bundle]") {
    hotpot_record r;
    r.id = "q1";
    r.question = "Are both A and B cats?";
    r.answer = "yes";
    r.supporting_facts = {{"B", 0}, {"A", 1}};
    r.context = {{"A", {"A is a cat.", " A is grey."}}, {"B", {"B is a cat."}}, {"C", {"C is a dog."}}};
    const auto c = build_corpus({r}, whitespace_counter{});
    const std::vector<std::uint32_t> shown{2, 1, 0};
    const auto b = make_bundle(c, r, shown);
    CHECK(b.target == "<answer>yes [2], [3]");
    CHECK(b.citations == std::vector<int>{2, 3});
    REQUIRE(b.passages.size() == 3);
    CHECK(b.passages[0].title == "C");
    CHECK_FALSE(b.passages[0].gold);
    CHECK(b.passages[2].text == "A is a cat. A is grey.");
    CHECK(b.supporting_facts == r.supporting_facts);
    const auto none = make_bundle(c, r, std::vector<std::uint32_t>{2});
    CHECK(none.target == "<answer>insufficient context");  // no supporting passage shown: abstain
    CHECK(none.citations.empty());
    CHECK(answer_target("x", {1}) == "<answer>x [1]");
    CHECK_THROWS_AS(make_bundle(c, r, std::vector<std::uint32_t>{7}), format_error);
    const bm25_scorer bm(c);
    CHECK(hard_negatives(c, r, bm, 5) == std::vector<std::uint32_t>{2});
}

TEST_CASE("bundles: the dev sample round-trips through citation parsing", "[data][bundle]") {
    const auto records = load_all(sample("hotpot_dev_sample.jsonl"));
    const auto c = build_corpus(records, whitespace_counter{});
    const bm25_scorer bm(c);
    std::size_t yes_no = 0;
    for (const auto& r : records) {
        const auto ranked = rank_passages(bm, r.question, c, context_passages(c, r));
        const auto gold = supporting_passages(c, r);
        const auto hard = hard_negatives(c, r, ranked, 4);
        for (const auto h : hard) REQUIRE_FALSE(std::binary_search(gold.begin(), gold.end(), h));
        CHECK(hard.size() == std::min<std::size_t>(4, ranked.passages.size() - gold.size()));
        const auto b = make_bundle(c, r, ranked.passages);
        const auto parsed = eval::parse_citations(b.target);
        INFO(r.id << ": " << b.target);
        CHECK(eval::normalize_answer(parsed.text) == eval::normalize_answer(r.answer));
        CHECK(parsed.citations == b.citations);
        std::vector<std::uint32_t> cited;
        for (const int n : parsed.citations) cited.push_back(b.shown[std::size_t(n - 1)]);
        std::sort(cited.begin(), cited.end());
        CHECK(cited == gold);  // every gold passage is in the context pool, so all are cited
        yes_no += r.answer == "yes" || r.answer == "no";
    }
    CHECK(yes_no > 0);
}

TEST_CASE("negative_picker: up to n keys, never gold, each once, in offer order", "[data][groups]") {
    negative_picker<std::string> pick(3, {"Gold"});
    std::vector<std::string> taken;
    for (const std::string k : {"A", "Gold", "A", "B", "Gold", "C", "D"})
        if (pick.offer(k)) taken.push_back(k);
    CHECK(taken == std::vector<std::string>{"A", "B", "C"});
    CHECK(pick.taken() == 3);
    negative_picker<std::uint32_t> none(0, {});
    CHECK_FALSE(none.offer(7));
}
