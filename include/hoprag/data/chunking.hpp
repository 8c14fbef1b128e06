// Chunking a titled paragraph into passages of a bounded token count. Tokens are counted by a
// `token_counter` (any type with `spans(text)` giving the byte spans of the text's split points,
// each with its token count); the `whitespace_counter` here counts maximal runs of non-space bytes
// as one token each, and a real tokenizer (WordPiece, byte-level BPE) plugs in through
// data/tokenizer_counter.hpp, with one span per word. Rules: a chunk's size is the title's tokens plus its text's
// tokens, and never exceeds `max_tokens` (unless the title alone leaves no room: then the body gets
// one token per chunk); a paragraph that fits stays whole; otherwise chunks break at sentence
// boundaries, a sentence longer than the room left by the title is first split at span boundaries
// into near-equal pieces (a single span with more tokens than the room -- a 250-token "word" --
// cannot be split and gets a chunk of its own, the one case where a chunk exceeds max_tokens), and the sentences/pieces
// are packed into the fewest chunks, among those preferring the packing whose chunks fall least below `min_tokens`,
// then the most even one (dynamic programming, so a 260-token paragraph becomes 130 + 130, not 250 + 10). Concatenating
// a paragraph's chunk bodies in order gives its text back exactly.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "hoprag/core/error.hpp"

namespace hoprag::data {

/// Byte span [begin, end) of a piece of text (a token, or a word) holding `tokens` tokens.
struct token_span {
    std::size_t begin = 0;
    std::size_t end = 0;
    std::size_t tokens = 1;
};

/// A token counter: `c.spans(text)` returns spans covering the tokens of `text`, in order and
/// non-overlapping. The text's token count is the sum of the spans' `tokens`; the chunker splits
/// long sentences only at span starts.
template <class C>
concept token_counter = requires(const C& c, std::string_view text) {
    { c.spans(text) } -> std::convertible_to<std::vector<token_span>>;
};

/// Total tokens of `spans`.
[[nodiscard]] inline std::size_t token_count(const std::vector<token_span>& spans) {
    std::size_t n = 0;
    for (const auto& s : spans) n += s.tokens;
    return n;
}

/// Counts maximal runs of non-whitespace bytes (space, tab, CR, LF, FF, VT) as tokens.
struct whitespace_counter {
    [[nodiscard]] std::vector<token_span> spans(std::string_view text) const {
        std::vector<token_span> out;
        auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
        std::size_t i = 0;
        while (i < text.size()) {
            while (i < text.size() && space(text[i])) ++i;
            if (i == text.size()) break;
            const std::size_t b = i;
            while (i < text.size() && !space(text[i])) ++i;
            out.push_back({b, i});
        }
        return out;
    }
};

/// Chunk sizes, in tokens, counting the title.
struct chunk_options {
    std::size_t min_tokens = 150;  ///< chunks of a split paragraph aim to be at least this long
    std::size_t max_tokens = 250;  ///< hard upper bound (title included)
};

/// One chunk of a paragraph: its body text and the sentences it covers.
struct paragraph_chunk {
    std::string text;               ///< the sentences (or sentence pieces) concatenated, as in the paragraph
    std::int64_t first_sent = 0;    ///< first sentence (0-based) with text in this chunk
    std::int64_t last_sent = 0;     ///< last sentence with text in this chunk (inclusive)
    bool first_sent_starts = true;  ///< whether first_sent begins in this chunk (false: a continued piece)
    std::size_t tokens = 0;         ///< title tokens + body tokens
};

namespace detail {

/// A unit of packing: a whole sentence or one piece of a long sentence.
struct chunk_unit {
    std::int64_t sent = 0;
    bool starts = true;  // first piece of its sentence
    std::string_view text;
    std::size_t tokens = 0;
};

}  // namespace detail

/// Splits the paragraph `sentences` (titled `title`) into chunks under `opt` (rules in the file
/// comment). Returns at least one chunk (an empty paragraph gives one empty chunk). Throws
/// config_error when max_tokens is 0 or min_tokens > max_tokens.
template <token_counter Counter>
[[nodiscard]] std::vector<paragraph_chunk> chunk_paragraph(std::string_view title,
                                                           const std::vector<std::string>& sentences,
                                                           const Counter& counter, const chunk_options& opt = {}) {
    if (opt.max_tokens == 0 || opt.min_tokens > opt.max_tokens)
        throw config_error("chunk_options: need 0 < max_tokens and min_tokens <= max_tokens, got min_tokens " +
                           std::to_string(opt.min_tokens) + ", max_tokens " + std::to_string(opt.max_tokens));
    const std::size_t title_tokens = token_count(counter.spans(title));
    const std::size_t room = opt.max_tokens > title_tokens ? opt.max_tokens - title_tokens : 1;
    const std::size_t want = opt.min_tokens > title_tokens ? opt.min_tokens - title_tokens : 0;

    // 1. Units: sentences, with long ones split at token starts into near-equal pieces.
    std::vector<detail::chunk_unit> units;
    std::size_t total = 0;
    for (std::size_t s = 0; s < sentences.size(); ++s) {
        const std::string_view text = sentences[s];
        const auto spans = counter.spans(text);
        const std::size_t n = token_count(spans);
        total += n;
        if (n <= room) {
            units.push_back({std::int64_t(s), true, text, n});
            continue;
        }
        // Pieces of about n / ceil(n / room) tokens: close one when it reaches that target or when
        // the next span would overflow the room.
        const std::size_t pieces = (n + room - 1) / room, target = (n + pieces - 1) / pieces;
        std::size_t acc = 0, byte = 0;
        for (std::size_t i = 0; i < spans.size(); ++i) {
            if (acc > 0 && (acc >= target || acc + spans[i].tokens > room)) {
                const std::size_t cut = spans[i].begin;
                units.push_back({std::int64_t(s), byte == 0, text.substr(byte, cut - byte), acc});
                byte = cut, acc = 0;
            }
            acc += spans[i].tokens;
        }
        units.push_back({std::int64_t(s), byte == 0, text.substr(byte), acc});
    }

    auto make = [&](std::size_t a, std::size_t b) {  // chunk of units [a, b)
        paragraph_chunk c;
        c.tokens = title_tokens;
        for (std::size_t i = a; i < b; ++i) c.text += units[i].text, c.tokens += units[i].tokens;
        c.first_sent = a < b ? units[a].sent : 0;
        c.last_sent = a < b ? units[b - 1].sent : 0;
        c.first_sent_starts = a < b ? units[a].starts : true;
        return c;
    };
    if (total <= room) return {make(0, units.size())};

    // 2. Fewest chunks, then least squared shortfall below `want` (DP over unit boundaries).
    const std::size_t n = units.size();
    constexpr std::size_t inf = std::numeric_limits<std::size_t>::max();
    using cost = std::tuple<std::size_t, std::size_t, std::size_t>;  // chunks, shortfall, squares
    std::vector<cost> best(n + 1, cost{inf, inf, inf});
    std::vector<std::size_t> from(n + 1, 0);
    best[0] = {0, 0, 0};
    for (std::size_t b = 1; b <= n; ++b) {
        std::size_t size = 0;
        for (std::size_t a = b; a-- > 0;) {
            size += units[a].tokens;
            if (size > room && a + 1 < b) break;  // an unsplittable over-long span stands alone
            const auto [chunks, shortfall, squares] = best[a];
            if (chunks == inf) continue;
            const std::size_t gap = size < want ? want - size : 0;
            const cost c{chunks + 1, shortfall + gap * gap, squares + size * size};
            if (c < best[b]) best[b] = c, from[b] = a;
        }
    }
    std::vector<paragraph_chunk> out(std::get<0>(best[n]));
    for (std::size_t b = n, i = out.size(); b > 0; b = from[b]) out[--i] = make(from[b], b);
    return out;
}

}  // namespace hoprag::data
