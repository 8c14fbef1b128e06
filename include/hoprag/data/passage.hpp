// The passage: the one type in which every stage hands text on -- the chunked corpus, the
// retriever's hits, the reranker's input and output, the generator's evidence and the metrics'
// view of what was shown. A passage is a chunk of a titled paragraph (a whole paragraph is chunk 0
// holding all its sentences), with the score its last ranker gave it and whether it holds a
// supporting fact of the question at hand.
#pragma once

#include <cstdint>
#include <set>
#include <span>
#include <string>

#include "hoprag/data/hotpotqa_record.hpp"

namespace hoprag::data {

/// A chunk of a titled paragraph, as ranked for one question.
struct passage {
    std::string title;            ///< the paragraph's title (kept with every chunk)
    std::string text;             ///< the chunk's body ("chunk" in ranked-passage files)
    std::uint32_t chunk = 0;      ///< chunk index within the paragraph, from 0
    std::int64_t first_sent = 0;  ///< first sentence of the paragraph in this passage
    std::int64_t last_sent = -1;  ///< last sentence (inclusive); below first_sent when unknown
    float score = 0;              ///< the last ranker's score (retriever, reranker or fused), higher is better
    bool gold = false;            ///< holds a supporting fact of the question (false when unknown)
};

/// The stable id "TITLE#CHUNK" of `p` in its corpus.
[[nodiscard]] inline std::string passage_id(const passage& p) { return p.title + "#" + std::to_string(p.chunk); }

/// The text an encoder embeds for `p`: "title. text".
[[nodiscard]] inline std::string passage_text(const passage& p) { return p.title + ". " + p.text; }

/// The distinct titles of the supporting facts of `r` (its gold paragraphs).
[[nodiscard]] inline std::set<std::string> gold_titles(const hotpot_record& r) {
    std::set<std::string> g;
    for (const auto& sf : r.supporting_facts) g.insert(sf.title);
    return g;
}

/// Whether `p` holds a supporting fact of `r`: a fact of its title whose sentence lies in the
/// passage's span, or (span unknown) any fact of its title.
[[nodiscard]] inline bool holds_support(const passage& p, const hotpot_record& r) {
    for (const auto& sf : r.supporting_facts)
        if (sf.title == p.title && (p.last_sent < p.first_sent || (sf.sent_id >= p.first_sent && sf.sent_id <= p.last_sent)))
            return true;
    return false;
}

/// Sets `gold` on the passages of `ps` that hold a supporting fact of `r` (clears it on the others).
inline void mark_gold(std::span<passage> ps, const hotpot_record& r) {
    for (auto& p : ps) p.gold = holds_support(p, r);
}

}  // namespace hoprag::data
