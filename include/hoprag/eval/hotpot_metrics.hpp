// The official HotpotQA metrics (hotpot_evaluate_v1.py), reimplemented rule for rule:
//  * answer: EM = normalised strings equal; F1/precision/recall over whitespace tokens of the
//    normalised strings with multiset (Counter) intersection; all three are 0 when either normalised
//    string is "yes", "no" or "noanswer" and the two differ, and 0 when no token is shared (so two
//    empty answers score EM 1, F1 0);
//  * supporting facts: sets of (title, sent_id) (duplicates collapse); precision = tp/(tp+fp),
//    recall = tp/(tp+fn), each 0 on an empty denominator; F1 = 2pr/(p+r) or 0; EM = no fp and no fn;
//  * joint: precision = p_ans * p_sp, recall = r_ans * r_sp, F1 = 2pr/(p+r) or 0, EM = em_ans * em_sp;
//  * every average divides by the number of gold questions: a question whose answer (or sp) is
//    missing from the predictions adds 0 to the answer (or sp) sums and 0 to every joint sum, which
//    is what the official script does. Prediction ids that are not in the gold set are counted.
// A per-type breakdown (bridge/comparison) averages over the gold questions of each type.
#pragma once

#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "hoprag/data/hotpotqa_record.hpp"
#include "hoprag/eval/answer_normalize.hpp"

namespace hoprag::eval {

/// Exact match, F1, precision and recall of one prediction (each in [0, 1]).
struct match_score {
    double em = 0, f1 = 0, prec = 0, recall = 0;
};

/// Answer scores of `prediction` against `gold` under the official rules (see the file comment).
[[nodiscard]] inline match_score score_answer(std::string_view prediction, std::string_view gold) {
    const std::string p = normalize_answer(prediction), g = normalize_answer(gold);
    match_score s;
    s.em = p == g ? 1.0 : 0.0;
    auto special = [](const std::string& x) { return x == "yes" || x == "no" || x == "noanswer"; };
    if ((special(p) || special(g)) && p != g) return s;
    const auto pt = answer_tokens(p), gt = answer_tokens(g);
    std::unordered_map<std::string_view, std::ptrdiff_t> counts;
    for (const auto t : gt) ++counts[t];
    std::size_t same = 0;
    for (const auto t : pt)
        if (auto it = counts.find(t); it != counts.end() && it->second > 0) --it->second, ++same;
    if (same == 0) return s;
    s.prec = double(same) / double(pt.size());
    s.recall = double(same) / double(gt.size());
    s.f1 = 2 * s.prec * s.recall / (s.prec + s.recall);
    return s;
}

/// Supporting-fact scores of the set of `prediction` against the set of `gold` (official update_sp).
[[nodiscard]] inline match_score score_supporting_facts(const std::vector<data::supporting_fact>& prediction,
                                                        const std::vector<data::supporting_fact>& gold) {
    const std::set<data::supporting_fact> p(prediction.begin(), prediction.end()), g(gold.begin(), gold.end());
    std::size_t tp = 0;
    for (const auto& e : p) tp += g.count(e);
    const std::size_t fp = p.size() - tp, fn = g.size() - tp;
    match_score s;
    s.prec = tp + fp > 0 ? double(tp) / double(tp + fp) : 0.0;
    s.recall = tp + fn > 0 ? double(tp) / double(tp + fn) : 0.0;
    s.f1 = s.prec + s.recall > 0 ? 2 * s.prec * s.recall / (s.prec + s.recall) : 0.0;
    s.em = fp + fn == 0 ? 1.0 : 0.0;
    return s;
}

/// Joint scores of one question from its answer and supporting-fact scores (official rule).
[[nodiscard]] inline match_score joint_score(const match_score& answer, const match_score& sp) {
    match_score j;
    j.prec = answer.prec * sp.prec;
    j.recall = answer.recall * sp.recall;
    j.f1 = j.prec + j.recall > 0 ? 2 * j.prec * j.recall / (j.prec + j.recall) : 0.0;
    j.em = answer.em * sp.em;
    return j;
}

/// Predictions in the official file format: {"answer": {id: text}, "sp": {id: [[title, sent_id]]}}.
struct hotpot_predictions {
    std::unordered_map<std::string, std::string> answer;
    std::unordered_map<std::string, std::vector<data::supporting_fact>> sp;
};

/// The twelve official averages (over `questions` gold questions).
struct hotpot_scores {
    match_score answer, sp, joint;
    std::size_t questions = 0;
};

/// Everything an evaluation reports: overall and per-type scores plus the counts behind them.
struct hotpot_report {
    hotpot_scores overall;
    std::map<std::string, hotpot_scores> by_type;  ///< "bridge", "comparison"
    std::size_t missing_answer = 0;                ///< gold questions with no predicted answer
    std::size_t missing_sp = 0;                    ///< gold questions with no predicted sp
    std::size_t unknown_answer_ids = 0;            ///< predicted answers for ids not in the gold set
    std::size_t unknown_sp_ids = 0;                ///< predicted sp for ids not in the gold set
    std::vector<std::string> unknown_id_examples;  ///< up to 10 such ids, sorted
};

/// Evaluates `pred` on every question of `gold` under the official rules (file comment).
[[nodiscard]] inline hotpot_report evaluate_hotpot(const std::vector<data::hotpot_record>& gold,
                                                   const hotpot_predictions& pred) {
    hotpot_report rep;
    auto add = [](hotpot_scores& into, const match_score* a, const match_score* s) {
        auto acc = [](match_score& x, const match_score& y) {
            x.em += y.em, x.f1 += y.f1, x.prec += y.prec, x.recall += y.recall;
        };
        if (a) acc(into.answer, *a);
        if (s) acc(into.sp, *s);
        if (a && s) acc(into.joint, joint_score(*a, *s));
        ++into.questions;
    };
    std::unordered_set<std::string_view> gold_ids;
    for (const auto& g : gold) {
        gold_ids.insert(g.id);
        match_score a, s;
        const auto ai = pred.answer.find(g.id);
        const auto si = pred.sp.find(g.id);
        if (ai != pred.answer.end()) a = score_answer(ai->second, g.answer);
        else ++rep.missing_answer;
        if (si != pred.sp.end()) s = score_supporting_facts(si->second, g.supporting_facts);
        else ++rep.missing_sp;
        const match_score* ap = ai != pred.answer.end() ? &a : nullptr;
        const match_score* sp = si != pred.sp.end() ? &s : nullptr;
        add(rep.overall, ap, sp);
        add(rep.by_type[g.type], ap, sp);
    }
    std::set<std::string> unknown;
    for (const auto& [id, _] : pred.answer)
        if (!gold_ids.count(id)) ++rep.unknown_answer_ids, unknown.insert(id);
    for (const auto& [id, _] : pred.sp)
        if (!gold_ids.count(id)) ++rep.unknown_sp_ids, unknown.insert(id);
    for (const auto& id : unknown)
        if (rep.unknown_id_examples.size() < 10) rep.unknown_id_examples.push_back(id);
    auto divide = [](hotpot_scores& x) {
        if (x.questions == 0) return;
        const double n = double(x.questions);
        for (match_score* m : {&x.answer, &x.sp, &x.joint}) m->em /= n, m->f1 /= n, m->prec /= n, m->recall /= n;
    };
    divide(rep.overall);
    for (auto& [_, s] : rep.by_type) divide(s);
    return rep;
}

}  // namespace hoprag::eval
