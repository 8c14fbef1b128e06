// Hybrid dense + BM25 retrieval (components/hybrid.hpp) over a stand-in dense retriever: weight 0
// keeps the dense order, a positive weight lifts the passage that matches the question's words,
// a passage only BM25 found enters at the dense list's lowest cosine, k is respected, and a
// negative weight is refused.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "hoprag/components/hybrid.hpp"
#include "hoprag/data/chunking.hpp"

using namespace hoprag;

namespace {

/// Always the same ranking, cut to k: passage 1 (0.9), passage 2 (0.8).
struct fixed_dense {
    std::vector<std::vector<components::hit>> retrieve(std::span<const std::string> texts, std::int64_t k) {
        std::vector<components::hit> list{{1, 0.9f}, {2, 0.8f}};
        if (list.size() > static_cast<std::size_t>(k)) list.resize(static_cast<std::size_t>(k));
        return std::vector<std::vector<components::hit>>(texts.size(), list);
    }
};

data::corpus tiny_corpus() {
    data::corpus c;
    for (const auto& p : std::vector<data::paragraph>{{"Alpha", {"The zebra runs far."}},
                                                       {"Beta", {"Cats sleep all day."}},
                                                       {"Gamma", {"Dogs bark at night."}},
                                                       {"Delta", {"Zebra stripes: every zebra has them."}}})
        c.add(p, data::whitespace_counter{});
    return c;
}

std::vector<std::int32_t> ids(const std::vector<components::hit>& hits) {
    std::vector<std::int32_t> out;
    for (const auto& h : hits) out.push_back(h.passage);
    return out;
}

}  // namespace

TEST_CASE("hybrid retrieval fuses the dense order with BM25", "[components][hybrid]") {
    const auto c = tiny_corpus();
    fixed_dense dense;
    const std::vector<std::string> q{"Which zebra?"};
    components::hybrid_retriever<fixed_dense> off(dense, c, c.size(), {.bm25_weight = 0});
    const auto plain = off.retrieve(q, 4).at(0);
    REQUIRE(plain.size() == 4);
    CHECK(ids(plain) == std::vector<std::int32_t>{1, 2, 0, 3});  // dense first; BM25-only ones at the floor, by index
    CHECK(plain[2].score == Approx(0.8f));

    components::hybrid_retriever<fixed_dense> on(dense, c, c.size(), {.bm25_weight = 1.0f});
    const auto fused = on.retrieve(q, 4).at(0);
    REQUIRE(fused.size() == 4);
    CHECK(fused[0].passage == 3);                 // Delta says "zebra" twice: the best BM25, 0.8 + 1.0
    CHECK(fused[0].score == Approx(1.8f));
    CHECK(fused[1].passage == 0);                 // Alpha: "zebra" once
    CHECK(fused[1].score > 0.9f);
    CHECK(ids(fused) == std::vector<std::int32_t>{3, 0, 1, 2});
    CHECK(on.retrieve(q, 2).at(0).size() == 2);
    CHECK_THROWS_AS(components::hybrid_retriever<fixed_dense>(dense, c, c.size(), {.bm25_weight = -1}), config_error);
}
