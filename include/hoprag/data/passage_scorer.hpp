// Scoring passages for a question: the `passage_scorer` concept (question, corpus, candidate passage
// indices) -> one score per candidate, higher is more relevant; `bm25_scorer`, the lexical default
// until the dense retriever lands; and `rank_passages`, which turns scores into a ranked candidate
// list (best first, ties by ascending passage index, so rankings are deterministic).
// BM25 (Robertson/Sparck Jones): score(q, d) = sum over distinct query terms t of
//     idf(t) * tf(t, d) * (k1 + 1) / (tf(t, d) + k1 * (1 - b + b * |d| / avgdl)),
//     idf(t) = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5)),
// over the passages of one corpus (document = title + text). Terms are maximal runs of ASCII letters
// and digits and of bytes >= 0x80 (UTF-8 letters stay inside words), ASCII-lowercased.
#pragma once

#include <algorithm>
#include <cctype>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <numeric>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "hoprag/core/error.hpp"
#include "hoprag/data/corpus.hpp"

namespace hoprag::data {

/// A passage scorer: `s.score(question, corpus, candidates)` returns one score per candidate
/// passage index (same order), higher meaning more relevant.
template <class S>
concept passage_scorer = requires(const S& s, std::string_view q, const corpus& c, std::span<const std::uint32_t> ids) {
    { s.score(q, c, ids) } -> std::convertible_to<std::vector<float>>;
};

/// The lower-cased terms of `text` (rules in the file comment), appended to `out`.
inline void bm25_terms(std::string_view text, std::vector<std::string>& out) {
    auto word = [](unsigned char c) { return std::isalnum(c) || c >= 0x80; };
    for (std::size_t i = 0; i < text.size();) {
        if (!word(static_cast<unsigned char>(text[i]))) {
            ++i;
            continue;
        }
        std::string t;
        for (; i < text.size() && word(static_cast<unsigned char>(text[i])); ++i)
            t.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(text[i]))));
        out.push_back(std::move(t));
    }
}

/// BM25 over the passages of one corpus (inverted index built once).
class bm25_scorer {
public:
    explicit bm25_scorer(const corpus& c, float k1 = 1.2f, float b = 0.75f) : k1_(k1), b_(b), n_(c.size()) {
        std::vector<std::string> terms;
        length_.resize(n_);
        double total = 0;
        for (std::uint32_t i = 0; i < n_; ++i) {
            terms.clear();
            bm25_terms(c[i].title, terms);
            bm25_terms(c[i].text, terms);
            length_[i] = static_cast<float>(terms.size());
            total += double(terms.size());
            std::sort(terms.begin(), terms.end());
            for (std::size_t j = 0; j < terms.size();) {
                std::size_t e = j;
                while (e < terms.size() && terms[e] == terms[j]) ++e;
                auto [it, fresh] = ids_.try_emplace(terms[j], static_cast<std::uint32_t>(postings_.size()));
                if (fresh) postings_.emplace_back();
                postings_[it->second].push_back({i, static_cast<std::uint32_t>(e - j)});
                j = e;
            }
        }
        avgdl_ = n_ ? float(total / double(n_)) : 1.0f;
        if (avgdl_ <= 0) avgdl_ = 1.0f;
    }

    /// Scores `candidates` (indices into the corpus this scorer was built on) for `question`.
    /// Throws config_error when given a corpus of another size.
    [[nodiscard]] std::vector<float> score(std::string_view question, const corpus& c,
                                           std::span<const std::uint32_t> candidates) const {
        if (c.size() != n_)
            throw config_error("bm25_scorer: built on a corpus of " + std::to_string(n_) +
                               " passages, asked to score one of " + std::to_string(c.size()));
        std::vector<std::string> q;
        bm25_terms(question, q);
        std::sort(q.begin(), q.end());
        q.erase(std::unique(q.begin(), q.end()), q.end());
        std::vector<float> out(candidates.size(), 0.0f);
        const bool dense = candidates.size() * 8 > n_;
        std::vector<float> acc(dense ? n_ : 0, 0.0f);
        for (const auto& t : q) {
            const auto it = ids_.find(t);
            if (it == ids_.end()) continue;
            const auto& post = postings_[it->second];
            const double df = double(post.size());
            const float idf = static_cast<float>(std::log(1.0 + (double(n_) - df + 0.5) / (df + 0.5)));
            auto term = [&](const posting& p) {
                const float tf = float(p.tf);
                return idf * tf * (k1_ + 1) / (tf + k1_ * (1 - b_ + b_ * length_[p.passage] / avgdl_));
            };
            if (dense) {
                for (const auto& p : post) acc[p.passage] += term(p);
                continue;
            }
            for (std::size_t k = 0; k < candidates.size(); ++k) {
                const auto f = std::lower_bound(post.begin(), post.end(), candidates[k],
                                                [](const posting& p, std::uint32_t v) { return p.passage < v; });
                if (f != post.end() && f->passage == candidates[k]) out[k] += term(*f);
            }
        }
        if (dense)
            for (std::size_t k = 0; k < candidates.size(); ++k) out[k] = acc.at(candidates[k]);
        return out;
    }

private:
    struct posting {
        std::uint32_t passage, tf;
    };
    float k1_, b_, avgdl_ = 1;
    std::size_t n_;
    std::vector<float> length_;                           // [passages] terms per passage
    std::unordered_map<std::string, std::uint32_t> ids_;  // term -> postings index
    std::vector<std::vector<posting>> postings_;          // per term, ascending passage
};

/// A ranked candidate list: passage indices best first, with their scores.
struct passage_ranking {
    std::vector<std::uint32_t> passages;
    std::vector<float> scores;
};

/// Scores `candidates` with `scorer` and ranks them best first (ties: lower passage index first);
/// keeps the top `k` (0 = all). Repeated candidates are kept once.
template <passage_scorer Scorer>
[[nodiscard]] passage_ranking rank_passages(const Scorer& scorer, std::string_view question, const corpus& c,
                                            std::vector<std::uint32_t> candidates, std::size_t k = 0) {
    std::sort(candidates.begin(), candidates.end());
    candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
    const std::vector<float> s = scorer.score(question, c, candidates);
    if (s.size() != candidates.size())
        throw shape_error("passage scorer returned " + std::to_string(s.size()) + " scores for " +
                          std::to_string(candidates.size()) + " candidates");
    std::vector<std::size_t> order(candidates.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    auto key = [&](std::size_t i) { return std::isnan(s[i]) ? -INFINITY : s[i]; };  // NaN ranks last
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return key(a) > key(b); });
    if (k && order.size() > k) order.resize(k);
    passage_ranking out;
    for (const auto i : order) out.passages.push_back(candidates[i]), out.scores.push_back(s[i]);
    return out;
}

/// The passages of every context paragraph of `r` (the distractor setting's candidate pool), in
/// ascending index order.
[[nodiscard]] inline std::vector<std::uint32_t> context_passages(const corpus& c, const hotpot_record& r) {
    std::vector<std::uint32_t> out;
    for (const auto& p : r.context) {
        const auto [first, count] = c.passages_of(p.title);
        for (std::uint32_t i = first; i < first + count; ++i) out.push_back(i);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

}  // namespace hoprag::data
