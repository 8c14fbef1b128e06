// The pooled passage corpus of a HotpotQA question set. Every context paragraph of every record is
// pooled and de-duplicated by title: the first paragraph seen under a title is kept; a later one
// with the same title and the same text counts as a duplicate, one with different text as a title
// conflict (counted, and its title kept in `corpus_stats::conflict_titles`, first few only).
// Each kept paragraph is chunked (data/chunking.hpp) into passages with stable ids "TITLE#CHUNK"
// (chunk index from 0; the id depends only on the paragraph, the token counter and the chunk
// options, not on which records were pooled or their order). Passages of a paragraph are stored
// contiguously in chunk order. `passage_of(title, sent_id)` maps a sentence to the one passage that
// holds it — for a sentence split across chunks, the passage holding its first piece — so
// supporting facts follow the chunks; `supporting_passages(record)` gives a record's gold passages.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "hoprag/core/error.hpp"
#include "hoprag/data/chunking.hpp"
#include "hoprag/data/hotpotqa_record.hpp"
#include "hoprag/data/passage.hpp"

namespace hoprag::data {

/// What pooling saw.
struct corpus_stats {
    std::size_t records = 0;                   ///< records added
    std::size_t paragraphs_seen = 0;           ///< context paragraphs over all records
    std::size_t paragraphs = 0;                ///< distinct titles kept
    std::size_t duplicates = 0;                ///< same title, same text as the kept copy
    std::size_t title_conflicts = 0;           ///< same title, different text (the first copy is kept)
    std::size_t split_paragraphs = 0;          ///< kept paragraphs that became more than one passage
    std::vector<std::string> conflict_titles;  ///< the first 20 conflicting titles
};

/// FNV-1a 64 of a paragraph's sentences (with a separator byte per sentence).
[[nodiscard]] inline std::uint64_t paragraph_hash(const std::vector<std::string>& sentences) {
    std::uint64_t h = 1469598103934665603ull;
    for (const auto& s : sentences) {
        for (const unsigned char c : s) h = (h ^ c) * 1099511628211ull;
        h = (h ^ 0x1Fu) * 1099511628211ull;
    }
    return h;
}

/// The pooled, chunked corpus. Build with `build_corpus` or `add`.
class corpus {
public:
    explicit corpus(chunk_options options = {}) : options_(options) {}

    /// Adds `p` (unless its title is already present) chunked with `counter`.
    template <token_counter Counter>
    void add(const paragraph& p, const Counter& counter) {
        ++stats_.paragraphs_seen;
        const std::uint64_t h = paragraph_hash(p.sentences);
        if (const auto it = titles_.find(p.title); it != titles_.end()) {
            if (it->second.hash == h)
                ++stats_.duplicates;
            else {
                ++stats_.title_conflicts;
                if (stats_.conflict_titles.size() < 20) stats_.conflict_titles.push_back(p.title);
            }
            return;
        }
        const auto chunks = chunk_paragraph(p.title, p.sentences, counter, options_);
        entry e;
        e.first = static_cast<std::uint32_t>(passages_.size());
        e.count = static_cast<std::uint32_t>(chunks.size());
        e.hash = h;
        e.sentence_passage.assign(p.sentences.size(), e.first);
        for (std::size_t c = 0; c < chunks.size(); ++c) {
            const auto& ch = chunks[c];
            passage ps;
            ps.title = p.title;
            ps.chunk = static_cast<std::uint32_t>(c);
            const auto b = ch.text.find_first_not_of(" \t\r\n");
            ps.text =
                b == std::string::npos ? std::string() : ch.text.substr(b, ch.text.find_last_not_of(" \t\r\n") - b + 1);
            ps.first_sent = ch.first_sent;
            ps.last_sent = ch.last_sent;
            tokens_.push_back(ch.tokens);
            for (std::int64_t s = ch.first_sent + (ch.first_sent_starts ? 0 : 1);
                 s <= ch.last_sent && !p.sentences.empty(); ++s)
                e.sentence_passage[std::size_t(s)] = e.first + std::uint32_t(c);
            passages_.push_back(std::move(ps));
        }
        stats_.split_paragraphs += chunks.size() > 1;
        ++stats_.paragraphs;
        titles_.emplace(p.title, std::move(e));
    }

    /// Adds every context paragraph of `r`.
    template <token_counter Counter>
    void add(const hotpot_record& r, const Counter& counter) {
        ++stats_.records;
        for (const auto& p : r.context) add(p, counter);
    }

    [[nodiscard]] std::size_t size() const { return passages_.size(); }
    [[nodiscard]] const std::vector<passage>& passages() const { return passages_; }
    [[nodiscard]] const passage& operator[](std::size_t i) const { return passages_.at(i); }
    /// Title + body tokens of passage `i`, by the corpus's token counter.
    [[nodiscard]] std::size_t tokens(std::size_t i) const { return tokens_.at(i); }
    [[nodiscard]] const corpus_stats& stats() const { return stats_; }
    [[nodiscard]] const chunk_options& options() const { return options_; }

    /// Indices [first, first + count) of the passages of the paragraph titled `title` (empty if absent).
    [[nodiscard]] std::pair<std::uint32_t, std::uint32_t> passages_of(std::string_view title) const {
        const auto it = titles_.find(std::string(title));
        return it == titles_.end() ? std::pair<std::uint32_t, std::uint32_t>{0, 0}
                                   : std::pair<std::uint32_t, std::uint32_t>{it->second.first, it->second.count};
    }

    /// Index of the passage holding sentence `sent_id` of paragraph `title`, or nullopt when the
    /// title is unknown or the kept copy has no such sentence.
    [[nodiscard]] std::optional<std::uint32_t> passage_of(std::string_view title, std::int64_t sent_id) const {
        const auto it = titles_.find(std::string(title));
        if (it == titles_.end() || sent_id < 0 || std::size_t(sent_id) >= it->second.sentence_passage.size())
            return std::nullopt;
        return it->second.sentence_passage[std::size_t(sent_id)];
    }

    /// Index of the passage with id "TITLE#CHUNK", or nullopt.
    [[nodiscard]] std::optional<std::uint32_t> find(std::string_view id) const {
        const auto hash = id.rfind('#');
        if (hash == std::string_view::npos) return std::nullopt;
        const auto [first, count] = passages_of(id.substr(0, hash));
        for (std::uint32_t i = first; i < first + count; ++i)
            if (passage_id(passages_[i]) == id) return i;
        return std::nullopt;
    }

    /// Index of the passage of paragraph `title` whose text is `text` (a passage read back from a
    /// ranked-passage file), or nullopt.
    [[nodiscard]] std::optional<std::uint32_t> find(std::string_view title, std::string_view text) const {
        const auto [first, count] = passages_of(title);
        for (std::uint32_t i = first; i < first + count; ++i)
            if (passages_[i].text == text) return i;
        return std::nullopt;
    }

    /// Whether `p` is the copy kept under its title (same sentences), i.e. its sentence ids are
    /// valid in this corpus.
    [[nodiscard]] bool holds(const paragraph& p) const {
        const auto it = titles_.find(p.title);
        return it != titles_.end() && it->second.hash == paragraph_hash(p.sentences);
    }

private:
    struct entry {
        std::uint32_t first = 0, count = 0;
        std::uint64_t hash = 0;
        std::vector<std::uint32_t> sentence_passage;  // [sentences] passage index per sentence
    };
    chunk_options options_;
    std::vector<passage> passages_;
    std::vector<std::size_t> tokens_;  // [passages] token counts
    std::unordered_map<std::string, entry> titles_;
    corpus_stats stats_;
};

/// The pooled corpus of `records`, chunked with `counter` under `options`.
template <token_counter Counter>
[[nodiscard]] corpus build_corpus(const std::vector<hotpot_record>& records, const Counter& counter,
                                  const chunk_options& options = {}) {
    corpus c(options);
    for (const auto& r : records) c.add(r, counter);
    return c;
}

/// The distinct passages (ascending index) holding a supporting fact of `r`. Throws format_error
/// naming the record and fact when a fact has no passage (its title is not in the corpus or the
/// kept copy is shorter).
[[nodiscard]] inline std::vector<std::uint32_t> supporting_passages(const corpus& c, const hotpot_record& r) {
    std::vector<std::uint32_t> out;
    for (const auto& sf : r.supporting_facts) {
        const auto p = c.passage_of(sf.title, sf.sent_id);
        if (!p)
            throw format_error("record \"" + r.id + "\": supporting fact [\"" + sf.title + "\", " +
                               std::to_string(sf.sent_id) + "] has no passage in the corpus");
        out.push_back(*p);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

}  // namespace hoprag::data
