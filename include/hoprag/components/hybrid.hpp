// Hybrid dense + BM25 first-stage retrieval. Dense retrieval misses passages that share the
// question's rare words (names, dates) but not its meaning as the encoder sees it; BM25 finds
// those. For each question the dense retriever's top `depth` and BM25's top `depth` over the same
// corpus are merged, each passage scoring
//     dense cosine + w * bm25 / (the question's best bm25 score)
// where a passage outside the dense top `depth` gets the lowest cosine of that list (it ranks at
// most there by meaning), so w = 0 is the dense order and w moves lexical matches up. The top k
// are kept, best first (ties: dense hits first, then lower passage index). `hybrid_retriever` has the dense retriever's
// retrieve(texts, k), so two-hop retrieval (components/two_hop.hpp) runs over it unchanged.
#pragma once

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "hoprag/components/retriever.hpp"
#include "hoprag/core/error.hpp"
#include "hoprag/data/corpus.hpp"
#include "hoprag/data/passage_scorer.hpp"

namespace hoprag::components {

struct hybrid_options {
    float bm25_weight = 0.6f;   ///< w above; 0 keeps the dense order
    std::int64_t depth = 200;   ///< candidates taken from each ranker (at least k)
};

/// Dense retrieval `Dense` (retrieve(texts, k) -> hits per text, passage = index into `c`) fused
/// with BM25 over the first `passages` passages of `c` (the indexed ones).
template <class Dense>
class hybrid_retriever {
public:
    hybrid_retriever(const hybrid_retriever&) = delete;
    hybrid_retriever& operator=(const hybrid_retriever&) = delete;
    hybrid_retriever(Dense& dense, const data::corpus& c, std::size_t passages, hybrid_options o = {})
        : dense_(&dense), corpus_(&c), bm25_(c), all_(std::min(passages, c.size())), o_(o) {
        if (!(o_.bm25_weight >= 0)) throw config_error("hybrid retrieval: the BM25 weight must be >= 0");
        std::iota(all_.begin(), all_.end(), std::uint32_t{0});
    }

    std::vector<std::vector<hit>> retrieve(std::span<const std::string> texts, std::int64_t k) {
        const std::int64_t depth = std::max(k, o_.depth);
        auto dense = dense_->retrieve(texts, depth);
        std::vector<std::vector<hit>> out(texts.size());
        for (std::size_t i = 0; i < texts.size(); ++i) {
            const auto lexical = bm25_.score(texts[i], *corpus_, all_);
            std::vector<std::uint32_t> top(all_.size());
            std::iota(top.begin(), top.end(), std::uint32_t{0});
            const auto n = std::min<std::size_t>(top.size(), static_cast<std::size_t>(depth));
            std::partial_sort(top.begin(), top.begin() + std::ptrdiff_t(n), top.end(),
                              [&](std::uint32_t a, std::uint32_t b) { return lexical[a] != lexical[b] ? lexical[a] > lexical[b] : a < b; });
            top.resize(n);
            const float best = top.empty() ? 0.0f : lexical[top[0]];
            const float scale = best > 0 ? o_.bm25_weight / best : 0.0f;
            const float floor = dense[i].empty() ? 0.0f : dense[i].back().score;
            struct fused {
                hit h;
                bool dense;  // in the dense list (wins ties, so w = 0 keeps the dense order)
            };
            std::unordered_map<std::int32_t, fused> merged;
            for (const auto& h : dense[i])
                merged.emplace(h.passage, fused{{h.passage, h.score + scale * lexical.at(static_cast<std::size_t>(h.passage))}, true});
            for (const auto p : top) merged.emplace(static_cast<std::int32_t>(p), fused{{static_cast<std::int32_t>(p), floor + scale * lexical[p]}, false});
            std::vector<fused> list;
            for (const auto& [p, f] : merged) list.push_back(f);
            std::sort(list.begin(), list.end(), [](const fused& a, const fused& b) {
                if (a.h.score != b.h.score) return a.h.score > b.h.score;
                if (a.dense != b.dense) return a.dense;
                return a.h.passage < b.h.passage;
            });
            for (std::size_t j = 0; j < list.size() && j < static_cast<std::size_t>(k); ++j) out[i].push_back(list[j].h);
        }
        return out;
    }

private:
    Dense* dense_;
    const data::corpus* corpus_;
    data::bm25_scorer bm25_;
    std::vector<std::uint32_t> all_;
    hybrid_options o_;
};

}  // namespace hoprag::components
