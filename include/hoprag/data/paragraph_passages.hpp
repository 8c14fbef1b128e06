// Whole HotpotQA context paragraphs as retrieval passages: the distinct paragraphs of a set of
// records pooled into one corpus (first-seen order; a paragraph repeated across questions, same
// title and text, appears once). A passage's text is its sentences concatenated; what an encoder
// sees is `passage_text` = "title. text". This is the simple corpus the retriever uses until the
// chunked corpus of data/corpus.hpp replaces it.
#pragma once

#include <span>
#include <string>
#include <unordered_set>
#include <vector>

#include "hoprag/data/hotpotqa_record.hpp"

namespace hoprag::data {

/// A retrievable unit: the paragraph title and its text (the "chunk" of retrieval output). Named
/// apart from data/corpus.hpp's chunked `passage`, so both headers can meet in one program.
struct paragraph_passage {
    std::string title;
    std::string text;
};

/// The text an encoder embeds for a passage.
inline std::string passage_text(const paragraph_passage& p) { return p.title + ". " + p.text; }

/// Distinct paragraphs of `records` in first-seen order.
inline std::vector<paragraph_passage> pooled_paragraphs(std::span<const hotpot_record> records) {
    std::vector<paragraph_passage> out;
    std::unordered_set<std::string> seen;
    for (const auto& r : records)
        for (const auto& p : r.context) {
            paragraph_passage q{p.title, {}};
            for (const auto& s : p.sentences) q.text += s;
            if (seen.insert(q.title + '\0' + q.text).second) out.push_back(std::move(q));
        }
    return out;
}

}  // namespace hoprag::data
