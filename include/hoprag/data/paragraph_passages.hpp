// Whole HotpotQA context paragraphs as retrieval passages: the distinct paragraphs of a set of
// records pooled into one list (first-seen order; a paragraph repeated across questions, same
// title and text, appears once). Each is chunk 0 of its paragraph holding all its sentences, its
// text the sentences concatenated. This is the simple corpus the retriever indexes; the chunked
// corpus of data/corpus.hpp feeds the curriculum.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
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

/// Distinct paragraphs of `records` in first-seen order.
[[nodiscard]] inline std::vector<passage> pooled_paragraphs(std::span<const hotpot_record> records) {
    std::vector<passage> out;
    std::unordered_set<std::string> seen;
    for (const auto& r : records)
        for (const auto& p : r.context) {
            auto q = paragraph_as_passage(p);
            if (seen.insert(q.title + '\0' + q.text).second) out.push_back(std::move(q));
        }
    return out;
}

/// Title -> sentence count of the paragraphs of `records` (the first paragraph seen under a title).
[[nodiscard]] inline std::unordered_map<std::string, std::int64_t> sentence_counts(std::span<const hotpot_record> records) {
    std::unordered_map<std::string, std::int64_t> out;
    for (const auto& r : records)
        for (const auto& p : r.context) out.emplace(p.title, static_cast<std::int64_t>(p.sentences.size()));
    return out;
}

}  // namespace hoprag::data
