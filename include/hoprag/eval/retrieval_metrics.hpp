// Retrieval metrics over ranked passage lists, by paragraph title. For a question with gold
// paragraph set G (the distinct titles of its supporting facts) and a ranked list of retrieved
// passage titles (best first; several chunks of one paragraph may appear, each counts as one rank):
//  * recall@k       = |G ∩ titles of the top k entries| / |G|, averaged over ALL gold questions;
//  * both_recall@k  = 1 if every gold paragraph is in the top k entries else 0, averaged likewise
//                     ("both-gold" for HotpotQA's two gold paragraphs);
//  * mrr            = 1 / (rank of the first entry whose title is gold), 0 if none, averaged likewise;
//  * top2_exact     = 1 if the titles of the first two entries are exactly G, averaged likewise
//                     (HotpotQA's supporting-paragraph exact match when two passages are kept).
// Questions without a retrieved list count 0 everywhere and are counted in `missing`.
#pragma once

#include <algorithm>
#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "hoprag/data/hotpotqa_record.hpp"

namespace hoprag::eval {

/// Averages of recall@k (per gold paragraph and all-gold) for each requested k, and MRR.
struct retrieval_report {
    std::map<std::size_t, double> recall_at;       ///< k -> mean recall@k
    std::map<std::size_t, double> both_recall_at;  ///< k -> share of questions with all gold in top k
    double mrr = 0;
    double top2_exact = 0;  ///< share of questions whose first two entries' titles are exactly the gold titles
    std::size_t questions = 0, missing = 0, unknown_ids = 0;
};

/// Scores `retrieved` (id -> ranked titles) against `gold` for every k in `ks`.
[[nodiscard]] inline retrieval_report evaluate_retrieval(
    const std::vector<data::hotpot_record>& gold, const std::unordered_map<std::string, std::vector<std::string>>& retrieved,
    const std::vector<std::size_t>& ks) {
    retrieval_report r;
    for (const auto k : ks) r.recall_at[k] = 0, r.both_recall_at[k] = 0;
    std::set<std::string_view> ids;
    for (const auto& q : gold) {
        ids.insert(q.id);
        ++r.questions;
        const auto it = retrieved.find(q.id);
        if (it == retrieved.end()) {
            ++r.missing;
            continue;
        }
        std::set<std::string_view> g;
        for (const auto& sf : q.supporting_facts) g.insert(sf.title);
        if (g.empty()) continue;
        const auto& list = it->second;
        r.top2_exact += std::set<std::string_view>(list.begin(), list.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(2, list.size()))) == g;
        for (std::size_t i = 0; i < list.size(); ++i)
            if (g.count(list[i])) {
                r.mrr += 1.0 / double(i + 1);
                break;
            }
        for (const auto k : ks) {
            std::set<std::string_view> found;
            for (std::size_t i = 0; i < list.size() && i < k; ++i)
                if (g.count(list[i])) found.insert(list[i]);
            r.recall_at[k] += double(found.size()) / double(g.size());
            r.both_recall_at[k] += found.size() == g.size() ? 1.0 : 0.0;
        }
    }
    for (const auto& [id, _] : retrieved) r.unknown_ids += !ids.count(id);
    if (r.questions) {
        const double n = double(r.questions);
        r.mrr /= n;
        r.top2_exact /= n;
        for (auto& [_, v] : r.recall_at) v /= n;
        for (auto& [_, v] : r.both_recall_at) v /= n;
    }
    return r;
}

}  // namespace hoprag::eval
