// Tallying answered questions: the official prediction file's contents, the generated lines the
// supported-answer rate needs, and the counts every answering program reports. `quality` gives
// the official answer / supporting-fact / joint metrics and the two citation rates over the
// questions that have a gold answer, and how many those were (unlabelled questions are answered,
// not scored).
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <unordered_map>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "hoprag/components/answerer.hpp"
#include "hoprag/data/hotpotqa_record.hpp"
#include "hoprag/eval/citations.hpp"
#include "hoprag/eval/hotpot_metrics.hpp"

namespace hoprag::components {

struct answer_tally {
    eval::hotpot_predictions pred;
    std::vector<eval::generated_answer> generated;
    std::size_t questions = 0, answered = 0, insufficient = 0, prompt_tokens = 0, dropped = 0;

    /// Records the answer `r` to question `id`.
    void add(const std::string& id, const answer_result& r) {
        pred.answer[id] = r.prediction.answer;
        pred.sp[id] = r.prediction.sp;
        eval::generated_answer g{id, r.line, {}};
        for (const auto& p : r.shown) g.holds_support.push_back(p.gold);
        generated.push_back(std::move(g));
        ++questions;
        answered += !r.prediction.insufficient, insufficient += r.prediction.insufficient;
        prompt_tokens += r.prompt_tokens, dropped += r.dropped;
    }

    /// {"answered", "insufficient", "prompt_tokens_mean", "dropped_passages"}.
    [[nodiscard]] nlohmann::ordered_json counts() const {
        const double n = questions ? double(questions) : 1.0;
        return {{"answered", answered}, {"insufficient", insufficient}, {"prompt_tokens_mean", double(prompt_tokens) / n}, {"dropped_passages", dropped}};
    }

    /// Over the records of `records` that have a gold answer: {"scored_questions", "metrics": {em,
    /// f1, sp_em, sp_f1, joint_em, joint_f1}, "supported_answer_rate", "citation_precision_rate",
    /// "abstentions", "contexts_without_gold" (no shown passage held a supporting fact),
    /// "abstention_precision" (abstentions on such contexts / abstentions), "abstention_recall"
    /// (abstentions on such contexts / such contexts)};
    /// {"scored_questions": 0} when none has (unlabelled questions, e.g. the official test format).
    [[nodiscard]] nlohmann::ordered_json quality(const std::vector<data::hotpot_record>& records) const {
        std::vector<data::hotpot_record> labelled;
        for (const auto& r : records)
            if (!r.answer.empty()) labelled.push_back(r);
        nlohmann::ordered_json out{{"scored_questions", labelled.size()}};
        if (labelled.empty()) return out;
        const auto s = eval::evaluate_hotpot(labelled, pred).overall;
        const auto sar = eval::supported_answer_rates(labelled, generated);
        out["metrics"] = {{"em", s.answer.em}, {"f1", s.answer.f1}, {"sp_em", s.sp.em}, {"sp_f1", s.sp.f1}, {"joint_em", s.joint.em}, {"joint_f1", s.joint.f1}};
        out["supported_answer_rate"] = sar.supported_answer_rate;
        out["citation_precision_rate"] = sar.citation_precision_rate;
        // an abstention is an empty predicted answer; a context without gold shows no passage holding support
        std::unordered_map<std::string_view, const eval::generated_answer*> by_id;
        for (const auto& g : generated) by_id.emplace(g.id, &g);
        std::size_t abstained = 0, without_gold = 0, right = 0;  // abstentions, contexts without gold, abstentions on those
        for (const auto& r : labelled)
            if (const auto it = by_id.find(r.id); it != by_id.end()) {
                const bool abst = pred.answer.at(r.id).empty();
                const auto& h = it->second->holds_support;
                const bool gold_shown = std::find(h.begin(), h.end(), true) != h.end();
                abstained += abst, without_gold += !gold_shown, right += abst && !gold_shown;
            }
        out["abstentions"] = abstained;
        out["contexts_without_gold"] = without_gold;
        out["abstention_precision"] = abstained ? double(right) / double(abstained) : 0.0;
        out["abstention_recall"] = without_gold ? double(right) / double(without_gold) : 0.0;
        return out;
    }
};

}  // namespace hoprag::components
