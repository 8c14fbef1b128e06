// A HotpotQA context paragraph as one passage (chunk 0 holding all its sentences, its text the
// sentences concatenated: a question's own paragraphs as the generator's and reranker's evidence),
// and each title's sentence count. Pooled corpora of many records are data/passage_unit.hpp's.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "hoprag/data/hotpotqa_record.hpp"
#include "hoprag/data/passage.hpp"

namespace hoprag::data {

/// Paragraph `p` as one passage.
[[nodiscard]] inline passage paragraph_as_passage(const paragraph& p) {
    passage q{.title = p.title, .last_sent = static_cast<std::int64_t>(p.sentences.size()) - 1};
    for (const auto& s : p.sentences) q.text += s;
    return q;
}

/// Title -> sentence count of the paragraphs of `records` (the first paragraph seen under a title).
[[nodiscard]] inline std::unordered_map<std::string, std::int64_t> sentence_counts(std::span<const hotpot_record> records) {
    std::unordered_map<std::string, std::int64_t> out;
    for (const auto& r : records)
        for (const auto& p : r.context) out.emplace(p.title, static_cast<std::int64_t>(p.sentences.size()));
    return out;
}

}  // namespace hoprag::data
