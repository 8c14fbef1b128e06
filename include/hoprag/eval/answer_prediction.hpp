// From a generated answer to a HotpotQA prediction. The generator continues "<answer>" with
// "ANSWER [i], [j]"; `predict_from_generation` drops leading whitespace, keeps the text up to the
// first line break, splits it
// with parse_citations into answer text and cited numbers, and maps each number n in 1..#shown to
// shown passage n (numbers outside that range are dropped and counted). Supporting facts rule: the
// predicted supporting facts are ALL sentences (title, first_sent .. last_sent) of every validly
// cited passage, in citation order without repeats. "Insufficient context": an answer whose normalized
// text (eval/answer_normalize rules) contains "insufficient context", or an empty answer, becomes
// the empty answer with no supporting facts (it scores 0, like any wrong answer).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hoprag/data/hotpotqa_record.hpp"
#include "hoprag/data/passage.hpp"
#include "hoprag/eval/answer_normalize.hpp"
#include "hoprag/eval/citations.hpp"

namespace hoprag::eval {

/// What one generation predicts.
struct answer_prediction {
    std::string answer;                          ///< answer text without citations ("" when insufficient)
    std::vector<int> citations;                  ///< valid cited numbers, first-appearance order
    std::size_t invalid_citations = 0;           ///< cited numbers outside 1..#shown
    std::vector<data::supporting_fact> sp;       ///< sentences of the cited passages
    bool insufficient = false;                   ///< said "insufficient context" or gave no answer
};

/// Applies the rules of the file comment to `generated` (the text after "<answer>").
[[nodiscard]] inline answer_prediction predict_from_generation(std::string_view generated, std::span<const data::passage> shown) {
    const auto start = generated.find_first_not_of(" \t\r\n");
    if (start == std::string_view::npos) generated = {};
    else generated.remove_prefix(start);
    const auto line = generated.substr(0, generated.find_first_of("\r\n"));
    const auto c = parse_citations(line);
    answer_prediction p;
    p.answer = c.text;
    for (const int n : c.citations) {
        if (n < 1 || std::size_t(n) > shown.size()) {
            ++p.invalid_citations;
            continue;
        }
        p.citations.push_back(n);
    }
    if (p.answer.empty() || normalize_answer(p.answer).find("insufficient context") != std::string::npos) {
        p.insufficient = true;
        p.answer.clear();
        p.citations.clear();
        return p;
    }
    for (const int n : p.citations) {
        const auto& s = shown[std::size_t(n) - 1];
        for (std::int64_t k = s.first_sent; k <= s.last_sent; ++k) {
            const data::supporting_fact f{s.title, k};
            if (std::find(p.sp.begin(), p.sp.end(), f) == p.sp.end()) p.sp.push_back(f);
        }
    }
    return p;
}

}  // namespace hoprag::eval
