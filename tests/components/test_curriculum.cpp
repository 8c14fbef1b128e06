// curriculum<Schedule> on the shared dev sample with BM25 candidates: schedules satisfy the concept
// (and a type without `name` does not), bundles are deterministic for a seed (also when built in
// another order or on two threads) and change with the seed, gold is present whenever forced and
// per schedule/epoch as specified, k is respected, the ranked order follows retrieval rank, and the
// annealed mix forces gold in the expected share of examples (within 4 binomial standard deviations),
// and candidates read from ranked-passage lists map onto the corpus (unknown passages counted, a
// question without a list refused).
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "hoprag/components/curriculum.hpp"
#include "hoprag/data/hotpotqa.hpp"
#include "support/reference.hpp"

using namespace hoprag;
using namespace hoprag::components;
using namespace hoprag::data;

namespace {

struct no_name {
    bool force_gold(schedule_point, float) const { return true; }
};
struct wrong_signature {
    static constexpr std::string_view name = "x";
    int force_gold(schedule_point) const { return 1; }
};
static_assert(curriculum_schedule<forced_gold<2>>);
static_assert(curriculum_schedule<pure_retrieval>);
static_assert(curriculum_schedule<annealed_mix>);
static_assert(!curriculum_schedule<no_name>);
static_assert(!has_schedule_name<no_name>);
static_assert(!has_force_gold<wrong_signature>);

struct fixture {
    std::vector<hotpot_record> records =
        load_all(test::source_dir() + "/../shared/data/hotpotqa/hotpot_dev_sample.jsonl");
    corpus c = build_corpus(records, whitespace_counter{});
    bm25_scorer bm{c};
};

const fixture& shared_fixture() {
    static const fixture f;
    return f;
}

bool has_all_gold(const training_bundle& b, const corpus& c, const hotpot_record& r) {
    const auto gold = supporting_passages(c, r);
    std::size_t found = 0;
    for (const auto& p : b.passages) found += p.gold;
    return found == gold.size();
}

std::vector<std::uint32_t> shown(const training_bundle& b) {
    return b.shown;
}

}  // namespace

TEST_CASE("curriculum: deterministic for a seed, independent of order and threads", "[components][curriculum]") {
    const auto& d = shared_fixture();
    curriculum_options o;
    o.k = 6;
    o.seed = 42;
    const auto a = curriculum<annealed_mix>::from_scorer(d.c, d.records, d.bm, o, annealed_mix{3});
    const auto b = curriculum<annealed_mix>::from_scorer(d.c, d.records, d.bm, o, annealed_mix{3});
    o.seed = 43;
    const auto other = curriculum<annealed_mix>::from_scorer(d.c, d.records, d.bm, o, annealed_mix{3});
    const std::size_t n = a.size();
    std::vector<std::vector<std::uint32_t>> forward(n), threaded(n);
    std::size_t i = 0;
    for (const auto& bundle : a.epoch(1)) forward[i++] = shown(bundle);
    CHECK(i == n);
    // Two threads, interleaved and reversed, on another instance.
    auto work = [&](std::size_t parity) {
        for (std::size_t j = n; j-- > 0;)
            if (j % 2 == parity) threaded[j] = shown(b.bundle(1, j));
    };
    std::thread t0(work, 0), t1(work, 1);
    t0.join(), t1.join();
    std::size_t differ = 0, forced_differ = 0;
    for (std::size_t j = 0; j < n; ++j) {
        REQUIRE(forward[j] == threaded[j]);
        REQUIRE(a.bundle(1, j).target == b.bundle(1, j).target);
        differ += shown(other.bundle(1, j)) != forward[j];
        forced_differ += other.gold_forced(1, j) != a.gold_forced(1, j);
    }
    CHECK(differ > n * 9 / 10);  // 6! orders: nearly every example changes with the seed
    CHECK(forced_differ > 0);
    // Another epoch reshuffles.
    std::size_t epoch_differ = 0;
    for (std::size_t j = 0; j < n; ++j) epoch_differ += shown(a.bundle(2, j)) != forward[j];
    CHECK(epoch_differ > n * 9 / 10);
}

TEST_CASE("curriculum: forced_gold<E> then pure retrieval, and k respected", "[components][curriculum]") {
    const auto& d = shared_fixture();
    for (const std::size_t k : {1u, 2u, 3u, 8u, 50u}) {
        INFO("k " << k);
        curriculum_options o;
        o.k = k;
        o.hard_negatives = 2;
        o.order = passage_order::ranked;
        const auto cur = curriculum<forced_gold<2>>::from_scorer(d.c, d.records, d.bm, o);
        for (std::size_t j = 0; j < cur.size(); j += 7) {
            const auto& r = d.records[j];
            const auto ranked = rank_passages(d.bm, r.question, d.c, context_passages(d.c, r));
            const auto gold = supporting_passages(d.c, r);
            const std::size_t avail = ranked.passages.size();
            for (std::size_t e = 0; e < 3; ++e) {
                const auto b = cur.bundle(e, j);
                CHECK(b.gold_forced == (e < 2));
                CHECK(b.epoch == e);
                REQUIRE(b.passages.size() == std::min(k, avail));
                if (e < 2 && k >= gold.size()) CHECK(has_all_gold(b, d.c, r));
                if (e < 2 && k >= gold.size() + 2 && avail >= gold.size() + 2) {
                    // the two best hard negatives are in
                    const auto hard = hard_negatives(d.c, r, ranked, 2);
                    const auto s = shown(b);
                    for (const auto h : hard) CHECK(std::find(s.begin(), s.end(), h) != s.end());
                }
                if (e == 2) {  // pure retrieval: exactly the top k, in rank order
                    const std::vector<std::uint32_t> top(ranked.passages.begin(),
                                                         ranked.passages.begin() + std::ptrdiff_t(std::min(k, avail)));
                    CHECK(shown(b) == top);
                }
                for (std::size_t p = 1; p < b.passages.size(); ++p) {  // ranked order
                    const auto rank = [&](std::uint32_t x) {
                        return std::find(ranked.passages.begin(), ranked.passages.end(), x) - ranked.passages.begin();
                    };
                    CHECK(rank(b.shown[p - 1]) < rank(b.shown[p]));
                }
            }
        }
    }
}

TEST_CASE("curriculum: pure retrieval may miss gold, and forced gold comes in anyway", "[components][curriculum]") {
    const auto& d = shared_fixture();
    // Candidates that exclude gold: retrieval "failed" for every question.
    std::vector<curriculum_input> in;
    for (const auto& r : d.records) {
        const auto ranked = rank_passages(d.bm, r.question, d.c, context_passages(d.c, r));
        const auto gold = supporting_passages(d.c, r);
        curriculum_input x;
        for (std::size_t i = 0; i < ranked.passages.size(); ++i)
            if (!std::binary_search(gold.begin(), gold.end(), ranked.passages[i]))
                x.candidates.passages.push_back(ranked.passages[i]), x.candidates.scores.push_back(ranked.scores[i]);
        in.push_back(std::move(x));
    }
    curriculum_options o;
    o.k = 4;
    const curriculum<pure_retrieval> pure(d.c, d.records, in, o);
    const curriculum<forced_gold<1>> forced(d.c, d.records, in, o);
    for (std::size_t j = 0; j < d.records.size(); j += 13) {
        const auto b = pure.bundle(0, j);
        CHECK_FALSE(b.gold_forced);
        CHECK(b.citations.empty());
        CHECK(b.target == "<answer>insufficient context");  // gold missed: the target abstains
        const auto f = forced.bundle(0, j);
        CHECK(f.gold_forced);
        CHECK(f.passages.size() == 4);
        CHECK(has_all_gold(f, d.c, d.records[j]));
        CHECK(f.citations.size() == supporting_passages(d.c, d.records[j]).size());
        CHECK_FALSE(forced.bundle(1, j).gold_forced);
    }
    CHECK_THROWS_AS(curriculum<pure_retrieval>(d.c, d.records, {}, o), shape_error);
    o.k = 0;
    CHECK_THROWS_AS(curriculum<pure_retrieval>(d.c, d.records, in, o), shape_error);
}

TEST_CASE("curriculum: annealed_mix forces gold in the scheduled share", "[components][curriculum]") {
    const auto& d = shared_fixture();
    curriculum_options o;
    o.k = 3;
    o.seed = 7;
    const annealed_mix mix{4};
    const auto cur = curriculum<annealed_mix>::from_scorer(d.c, d.records, d.bm, o, mix);
    const std::size_t n = cur.size();
    CHECK(mix.probability({0, 0, n}) == 1.0);
    CHECK(mix.probability({2, 0, n}) == Approx(0.5));
    CHECK(mix.probability({4, 0, n}) == 0.0);
    const annealed_mix staged{.epochs = 1.0, .hold = 0.5};  // forced, mixed, pure in a 2-epoch run
    CHECK(staged.probability({0, n / 2 - 1, n}) == 1.0);
    CHECK(staged.probability({1, 0, n}) == Approx(0.5));
    CHECK(staged.probability({1, n / 2, n}) == 0.0);
    CHECK(staged.probability({1, n - 1, n}) == 0.0);
    CHECK(annealed_mix{.epochs = 0, .hold = 1}.probability({1, 0, n}) == 0.0);
    for (std::size_t e = 0; e < 5; ++e) {
        double expected = 0, var = 0;
        std::size_t forced = 0;
        for (std::size_t j = 0; j < n; ++j) {
            const double p = mix.probability({e, j, n});
            expected += p, var += p * (1 - p);
            const bool f = cur.gold_forced(e, j);
            forced += f;
            if (f) CHECK(cur.bundle(e, j).gold_forced);
        }
        INFO("epoch " << e << ": forced " << forced << ", expected " << expected);
        CHECK(std::abs(double(forced) - expected) <= 4 * std::sqrt(var) + 1);
    }
}

TEST_CASE("curriculum: candidates from ranked-passage lists, matched to the corpus by title and text", "[components][curriculum]") {
    const auto& d = shared_fixture();
    // Each question's list: its non-gold own passages best-ranked by BM25, then a passage of another
    // corpus (unmatched), then its gold passages last; question 0 also lists a repeat.
    std::unordered_map<std::string, std::vector<passage>> lists;
    for (const auto& r : d.records) {
        const auto ranked = rank_passages(d.bm, r.question, d.c, context_passages(d.c, r));
        const auto gold = supporting_passages(d.c, r);
        auto& l = lists[r.id];
        for (const auto i : ranked.passages)
            if (!std::binary_search(gold.begin(), gold.end(), i)) l.push_back(d.c[i]);
        l.push_back({.title = r.context.at(0).title, .text = "text that no corpus passage has"});
        for (const auto g : gold) l.push_back(d.c[g]);
    }
    lists[d.records[0].id].push_back(lists[d.records[0].id].front());
    curriculum_options o;
    o.k = 4;
    o.hard_negatives = 2;
    std::size_t unmatched = 0;
    const auto cur = curriculum<forced_gold<1>>::from_rankings(d.c, d.records, lists, o, {}, &unmatched);
    CHECK(unmatched == d.records.size());
    for (std::size_t j = 0; j < d.records.size(); j += 11) {
        const auto& r = d.records[j];
        const auto gold = supporting_passages(d.c, r);
        const auto& l = lists.at(r.id);
        const auto forced = cur.bundle(0, j);
        CHECK(has_all_gold(forced, d.c, r));
        // the forced gold gets the highest priority scores, so prompt fitting drops it last
        for (std::size_t p = 0; p < forced.passages.size(); ++p)
            if (forced.passages[p].gold) CHECK(forced.passages[p].score > float(forced.passages.size() - gold.size()));
        const auto pure = cur.bundle(1, j);  // the top 4 of the list, all non-gold when the list has 4 non-gold passages
        if (l.size() >= gold.size() + 5) {
            CHECK(pure.target == "<answer>insufficient context");
            for (const auto i : pure.shown) CHECK_FALSE(std::binary_search(gold.begin(), gold.end(), i));
        }
    }
    lists.erase(d.records[5].id);
    CHECK_THROWS_WITH((curriculum<forced_gold<1>>::from_rankings(d.c, d.records, lists, o)),
                      Catch::Contains(d.records[5].id) && Catch::Contains("no ranked passages"));
}
