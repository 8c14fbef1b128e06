// Citations in generated answers and the supported-answer rate. A generator answers like
//     <answer>Arthur's Magazine [1], [3]
// `parse_citations` splits that into the answer text ("Arthur's Magazine") and the cited passage
// numbers ({1, 3}, as written: 1-based positions in the passage list the generator was shown).
// Rules: a leading "<answer>" and a trailing "</answer>" are dropped; every bracket group holding
// only digits, commas and spaces ("[2]", "[1, 3]") is a citation group and is removed from the
// text; commas, semicolons and whitespace left dangling around removed groups are trimmed; cited
// numbers keep their first-appearance order without repeats. An unclosed "[" followed only by
// digits, commas and spaces up to the end ("Lyon [1], [", "yes [2") is a group cut off by the
// token limit: it is dropped with its digits (the number may be incomplete).
//
// Supported-answer rate (`supported_answer_rates`), per question q with passages shown to the
// generator, where a passage "holds a supporting fact" when it contains at least one gold
// (title, sent_id) of q:
//  * supported_answer_rate = #{q : answer F1 >= 0.5 (official F1) and at least one cited number
//    names a shown passage holding a supporting fact} / #{ALL gold questions};
//  * citation_precision_rate = #{answered q : at least one citation and every cited number names a
//    shown passage holding a supporting fact} / #{answered q}, where "answered" means a prediction
//    exists for q and its answer text is non-empty after citation removal. Numbers outside
//    1..#passages count as citations of unsupported passages.
#pragma once

#include <cctype>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "hoprag/eval/hotpot_metrics.hpp"

namespace hoprag::eval {

/// An answer split into its text and the passage numbers it cites.
struct cited_answer {
    std::string text;
    std::vector<int> citations;
};

/// Splits generated text into answer text and citations (rules in the file comment).
[[nodiscard]] inline cited_answer parse_citations(std::string_view s) {
    auto trim = [](std::string_view v, std::string_view chars) {
        while (!v.empty() && chars.find(v.front()) != std::string_view::npos) v.remove_prefix(1);
        while (!v.empty() && chars.find(v.back()) != std::string_view::npos) v.remove_suffix(1);
        return v;
    };
    s = trim(s, " \t\r\n");
    if (s.substr(0, 8) == "<answer>") s.remove_prefix(8);
    if (s.size() >= 9 && s.substr(s.size() - 9) == "</answer>") s.remove_suffix(9);
    cited_answer out;
    std::string text;
    for (std::size_t i = 0; i < s.size();) {
        if (s[i] == '[') {
            const std::size_t close = s.find(']', i);
            const std::string_view inner = s.substr(i + 1, close == std::string_view::npos ? std::string_view::npos : close - i - 1);
            bool digits = false, only = true;
            for (const char c : inner) {
                if (std::isdigit(static_cast<unsigned char>(c))) digits = true;
                else if (c != ',' && c != ' ') only = false;
            }
            if (close == std::string_view::npos && only) break;  // cut-off group
            if (close != std::string_view::npos && digits && only) {
                for (std::size_t k = 0; k < inner.size();) {
                    if (!std::isdigit(static_cast<unsigned char>(inner[k]))) {
                        ++k;
                        continue;
                    }
                    int v = 0;
                    while (k < inner.size() && std::isdigit(static_cast<unsigned char>(inner[k])) && v < 100000000)
                        v = v * 10 + (inner[k++] - '0');
                    while (k < inner.size() && std::isdigit(static_cast<unsigned char>(inner[k]))) ++k;
                    bool seen = false;
                    for (const int c : out.citations) seen |= c == v;
                    if (!seen) out.citations.push_back(v);
                }
                // drop separators dangling before the group
                while (!text.empty() && (text.back() == ' ' || text.back() == ',' || text.back() == ';')) text.pop_back();
                i = close + 1;
                while (i < s.size() && (s[i] == ' ' || s[i] == ',' || s[i] == ';')) ++i;
                if (i < s.size() && s[i] != '[' && !text.empty()) text.push_back(' ');
                continue;
            }
        }
        text.push_back(s[i++]);
    }
    out.text = std::string(trim(text, " \t\r\n,;"));
    return out;
}

/// One generated answer with the passages it was shown: `holds_support[i]` says whether passage
/// number i+1 holds a supporting fact of the question.
struct generated_answer {
    std::string id;
    std::string text;                ///< raw generated text (citations still in it)
    std::vector<bool> holds_support;
};

/// The two rates defined in the file comment, with their counts.
struct supported_answer_report {
    double supported_answer_rate = 0;
    double citation_precision_rate = 0;
    std::size_t questions = 0, answered = 0, supported = 0, cite_only_supporting = 0;
};

/// Computes the rates over all `gold` questions; generated answers for unknown ids are ignored.
[[nodiscard]] inline supported_answer_report supported_answer_rates(const std::vector<data::hotpot_record>& gold,
                                                                    const std::vector<generated_answer>& generated) {
    std::unordered_map<std::string_view, const generated_answer*> by_id;
    for (const auto& g : generated) by_id.emplace(g.id, &g);
    supported_answer_report r;
    for (const auto& q : gold) {
        ++r.questions;
        const auto it = by_id.find(q.id);
        if (it == by_id.end()) continue;
        const auto c = parse_citations(it->second->text);
        const auto& holds = it->second->holds_support;
        std::size_t good = 0;
        for (const int n : c.citations) good += n >= 1 && std::size_t(n) <= holds.size() && holds[std::size_t(n) - 1];
        if (good > 0 && score_answer(c.text, q.answer).f1 >= 0.5) ++r.supported;
        if (c.text.empty()) continue;
        ++r.answered;
        if (!c.citations.empty() && good == c.citations.size()) ++r.cite_only_supporting;
    }
    if (r.questions) r.supported_answer_rate = double(r.supported) / double(r.questions);
    if (r.answered) r.citation_precision_rate = double(r.cite_only_supporting) / double(r.answered);
    return r;
}

}  // namespace hoprag::eval
