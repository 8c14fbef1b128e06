// Training bundles: what the generator sees and must produce for one question. A bundle holds the
// question, numbered passages (number = 1-based position, with title and text), the target
//     <answer>ANSWER [i], [j]
// citing, in ascending number order, every shown passage that holds a supporting fact (yes/no
// answers are cited the same way; with no such passage shown the target is the abstention
// "<answer>insufficient context"), and the gold supporting facts. eval/citations.hpp's parse_citations reads the
// target back into the answer and the cited numbers. `hard_negatives` picks the passages a scorer
// ranks highest among those that hold no supporting fact (data/groups.hpp's negative_picker, keyed
// by corpus index).
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hoprag/data/corpus.hpp"
#include "hoprag/data/groups.hpp"
#include "hoprag/data/passage_scorer.hpp"

namespace hoprag::data {

/// A question with the passages shown to the generator and the answer it should give.
struct training_bundle {
    std::string id;                                 ///< the question's "_id"
    std::string question;                           ///< question text
    std::string answer;                             ///< gold answer
    std::vector<passage> passages;                  ///< passage number i is passages[i - 1]; gold: holds a supporting fact
    std::vector<std::uint32_t> shown;               ///< the corpus index of each of `passages`
    std::string target;                             ///< "<answer>ANSWER [i], [j]" or "<answer>insufficient context"
    std::vector<int> citations;                     ///< the numbers cited by target, ascending
    std::vector<supporting_fact> supporting_facts;  ///< gold (title, sent_id) pairs
    bool gold_forced = false;                       ///< whether the curriculum forced the gold passages in
    std::size_t epoch = 0;                          ///< the curriculum epoch it was made for
};

/// The abstention the generator learns where the context holds no supporting passage.
inline constexpr std::string_view insufficient_context = "insufficient context";

/// "<answer>ANSWER [c1], [c2]", or "<answer>insufficient context" when `citations` is empty (the
/// shown passages hold no supporting fact, so the answer cannot be grounded in them).
[[nodiscard]] inline std::string answer_target(std::string_view answer, const std::vector<int>& citations) {
    std::string t = "<answer>";
    t += citations.empty() ? insufficient_context : answer;
    for (std::size_t i = 0; i < citations.size(); ++i) t += (i ? ", [" : " [") + std::to_string(citations[i]) + "]";
    return t;
}

/// The bundle of `r` showing corpus passages `shown` in that order. Throws format_error when a
/// supporting fact of `r` has no passage in `c`, and when `shown` names a passage outside it.
[[nodiscard]] inline training_bundle make_bundle(const corpus& c, const hotpot_record& r,
                                                 std::span<const std::uint32_t> shown) {
    const auto gold = supporting_passages(c, r);
    training_bundle b;
    b.id = r.id;
    b.question = r.question;
    b.answer = r.answer;
    b.supporting_facts = r.supporting_facts;
    for (std::size_t i = 0; i < shown.size(); ++i) {
        if (shown[i] >= c.size())
            throw format_error("record \"" + r.id + "\": passage index " + std::to_string(shown[i]) +
                               " is outside the corpus of " + std::to_string(c.size()) + " passages");
        const bool sup = std::binary_search(gold.begin(), gold.end(), shown[i]);
        b.passages.push_back(c[shown[i]]);
        b.passages.back().gold = sup;
        b.shown.push_back(shown[i]);
        if (sup) b.citations.push_back(static_cast<int>(i + 1));
    }
    b.target = answer_target(r.answer, b.citations);
    return b;
}

/// Up to `n` passages among `ranked` (best first) that hold no supporting fact of `r`, in rank order.
[[nodiscard]] inline std::vector<std::uint32_t> hard_negatives(const corpus& c, const hotpot_record& r,
                                                               const passage_ranking& ranked, std::size_t n) {
    const auto gold = supporting_passages(c, r);
    negative_picker<std::uint32_t> pick(n, {gold.begin(), gold.end()});
    std::vector<std::uint32_t> out;
    for (const auto p : ranked.passages)
        if (pick.offer(p)) out.push_back(p);
    return out;
}

/// Hard negatives of `r` from `scorer` over its own context passages (the distractor setting).
template <passage_scorer Scorer>
[[nodiscard]] std::vector<std::uint32_t> hard_negatives(const corpus& c, const hotpot_record& r, const Scorer& scorer,
                                                        std::size_t n) {
    return hard_negatives(c, r, rank_passages(scorer, r.question, c, context_passages(c, r)), n);
}

}  // namespace hoprag::data
