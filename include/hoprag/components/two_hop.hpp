// Two-hop dense retrieval for multi-hop questions. HotpotQA's second gold paragraph is often about
// an entity that only the first one names (the bridge), so the question alone retrieves it badly.
// Hop 1 retrieves the top k passages of the question; hop 2 queries again with the question
// followed by each of the first `seeds` hop-1 passages ("question title. text"), so a passage
// that the bridge paragraph points to can surface. A hop-2 passage reached from seed s scores the
// path mean (score(s) + score(s -> passage)) / 2, so a step from a weak seed counts less; the
// merged list scores each passage by the best of its hop-1 score and its path scores (cosines of
// one encoder) and keeps the top k, best first (ties: hop-1 order, then passage index).
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "hoprag/components/retriever.hpp"
#include "hoprag/data/passage.hpp"

namespace hoprag::components {

/// How the second hop runs.
struct two_hop_options {
    std::int64_t k = 200;     ///< passages per question, each hop and merged
    std::size_t seeds = 5;    ///< hop-1 passages that each start a hop-2 query (0: one hop, no second)
};

/// The merged two-hop hits of each question (`Retriever` has retrieve(texts, k) like retriever<>;
/// hit indices name passages of `corpus`).
template <class Retriever>
std::vector<std::vector<hit>> retrieve_two_hop(Retriever& r, std::span<const std::string> questions, std::span<const data::passage> corpus,
                                               const two_hop_options& o = {}) {
    auto first = r.retrieve(questions, o.k);
    if (o.seeds == 0) return first;  // one hop
    std::vector<std::string> queries;
    std::vector<std::size_t> owner;  // question of each hop-2 query
    std::vector<float> seed_score;   // hop-1 score of each hop-2 query's seed
    for (std::size_t i = 0; i < questions.size(); ++i)
        for (std::size_t j = 0; j < std::min(o.seeds, first[i].size()); ++j) {
            queries.push_back(questions[i] + " " + data::passage_text(corpus[static_cast<std::size_t>(first[i][j].passage)]));
            owner.push_back(i);
            seed_score.push_back(first[i][j].score);
        }
    const auto second = r.retrieve(queries, o.k);
    std::vector<std::unordered_map<std::int32_t, float>> best(questions.size());
    for (std::size_t i = 0; i < questions.size(); ++i)
        for (const auto& h : first[i]) best[i].emplace(h.passage, h.score);
    for (std::size_t q = 0; q < queries.size(); ++q)
        for (const auto& h : second[q]) {
            const float path = 0.5f * (seed_score[q] + h.score);  // the seed's relevance and the step from it
            auto [it, fresh] = best[owner[q]].emplace(h.passage, path);
            if (!fresh) it->second = std::max(it->second, path);
        }
    std::vector<std::vector<hit>> out(questions.size());
    for (std::size_t i = 0; i < questions.size(); ++i) {
        std::unordered_map<std::int32_t, std::size_t> hop1_rank;
        for (std::size_t j = 0; j < first[i].size(); ++j) hop1_rank.emplace(first[i][j].passage, j);
        struct ranked {
            hit h;
            std::size_t hop1;  // hop-1 rank (hop-1 list size when only hop 2 found it)
        };
        std::vector<ranked> merged;
        for (const auto& [p, s] : best[i]) {
            const auto it = hop1_rank.find(p);
            merged.push_back({{p, s}, it == hop1_rank.end() ? first[i].size() : it->second});
        }
        std::sort(merged.begin(), merged.end(), [](const ranked& a, const ranked& b) {
            if (a.h.score != b.h.score) return a.h.score > b.h.score;
            if (a.hop1 != b.hop1) return a.hop1 < b.hop1;
            return a.h.passage < b.h.passage;
        });
        auto& hits = out[i];
        for (const auto& m : merged) hits.push_back(m.h);
        if (hits.size() > static_cast<std::size_t>(o.k)) hits.resize(static_cast<std::size_t>(o.k));
    }
    return out;
}

}  // namespace hoprag::components
