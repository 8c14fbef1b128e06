// Reranker training groups and the hard-negative rule they share with the generator's curriculum.
//  * negative_picker: takes up to n candidates offered in order (best first), skipping gold keys and
//    keys already taken. Reranker groups key passages by title; the curriculum's hard_negatives
//    (data/bundle.hpp) by corpus index (a non-gold chunk of a gold paragraph may be a negative there).
//  * make_groups: for each gold paragraph of a question (a context paragraph holding a supporting
//    fact) one group = that positive + `negatives` hard negatives: first the top `from_retrieval`
//    retrieved passages whose title is not gold (retriever order), then the question's own
//    distractors in a seeded shuffle, then further retrieved non-gold passages if still short.
//  * make_retrieval_groups: score-fusion groups from the retrieval list itself (every pair carries
//    its retriever score).
#pragma once

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "hoprag/core/hash.hpp"
#include "hoprag/core/rng.hpp"
#include "hoprag/data/hotpotqa_record.hpp"
#include "hoprag/data/paragraph_passages.hpp"
#include "hoprag/data/passage.hpp"

namespace hoprag::data {

/// Takes up to `n` hard negatives from candidates offered best first: a candidate is taken when its
/// key is neither gold nor taken already.
template <class Key>
class negative_picker {
public:
    negative_picker(std::size_t n, std::set<Key> gold) : n_(n), seen_(std::move(gold)) {}
    /// Whether `key` was taken (false: full, gold, or a repeat).
    bool offer(const Key& key) {
        if (taken_ >= n_ || !seen_.insert(key).second) return false;
        ++taken_;
        return true;
    }
    [[nodiscard]] std::size_t taken() const { return taken_; }

private:
    std::size_t n_, taken_ = 0;
    std::set<Key> seen_;  // gold keys and the keys taken
};

/// A training group: a question, one positive passage and its negatives.
struct training_group {
    std::string question;
    passage positive;
    std::vector<passage> negatives;
    /// Whether every passage's `score` is its retriever score (required for score fusion).
    bool retriever_scored = false;
};

/// How groups are built.
struct group_options {
    std::size_t negatives = 3;       ///< negatives per group
    std::size_t from_retrieval = 2;  ///< of which at most this many come first from retrieval
    std::uint64_t seed = 0;          ///< distractor shuffle
};

/// Groups of question `r` (one per gold context paragraph); `retrieved` may be null.
inline std::vector<training_group> make_groups(const hotpot_record& r, const std::vector<passage>* retrieved,
                                               const group_options& o) {
    const auto gold = gold_titles(r);
    negative_picker<std::string> pick(o.negatives, gold);
    std::vector<passage> negatives;
    const auto take = [&](passage p) {
        if (!pick.offer(p.title)) return;
        p.score = 0, p.gold = false;
        negatives.push_back(std::move(p));
    };
    if (retrieved)
        for (const auto& p : *retrieved) {
            if (pick.taken() >= std::min(o.negatives, o.from_retrieval)) break;
            take(p);
        }
    std::vector<std::size_t> order(r.context.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    const philox_stream s{o.seed, fnv1a64(r.id)};
    for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[s.bits(i) % i]);
    for (const auto i : order) take(paragraph_as_passage(r.context[i]));
    if (retrieved)
        for (const auto& p : *retrieved) take(p);
    std::vector<training_group> out;
    std::set<std::string> seen;
    for (const auto& para : r.context) {
        if (!gold.count(para.title) || !seen.insert(para.title).second) continue;
        training_group g{r.question, paragraph_as_passage(para), negatives};
        g.positive.gold = true;
        if (!g.negatives.empty()) out.push_back(std::move(g));
    }
    return out;
}

/// Fusion groups of question `r` from its retrieval list: for each gold title among the first
/// `top` retrieved passages, one group = that passage (first chunk of the title) + `o.negatives`
/// non-gold passages of the first `top`: the `o.from_retrieval` best ranked first, the rest drawn
/// in a seeded shuffle from the remaining ones; every pair carries its retriever score. Titles
/// repeat at most once per group. Gold titles not retrieved give no group (they have no score).
inline std::vector<training_group> make_retrieval_groups(const hotpot_record& r, const std::vector<passage>& retrieved,
                                                         std::size_t top, const group_options& o) {
    const auto gold = gold_titles(r);
    const std::size_t n = std::min(top, retrieved.size());
    std::vector<std::size_t> pos, neg;
    std::set<std::string> seen;
    for (std::size_t i = 0; i < n; ++i) {
        if (!seen.insert(retrieved[i].title).second) continue;
        (gold.count(retrieved[i].title) ? pos : neg).push_back(i);
    }
    const std::size_t hard = std::min({o.from_retrieval, o.negatives, neg.size()});
    const philox_stream s{o.seed, fnv1a64(r.id) ^ 0x5eedu};
    for (std::size_t i = neg.size(); i > hard + 1; --i) std::swap(neg[i - 1], neg[hard + s.bits(i) % (i - hard)]);
    neg.resize(std::min(neg.size(), o.negatives));
    std::vector<training_group> out;
    if (neg.empty()) return out;
    for (const auto p : pos) {
        training_group g{r.question, retrieved[p], {}, true};
        g.positive.gold = true;
        for (const auto j : neg) {
            g.negatives.push_back(retrieved[j]);
            g.negatives.back().gold = false;
        }
        out.push_back(std::move(g));
    }
    return out;
}

}  // namespace hoprag::data
