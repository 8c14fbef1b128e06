// The passage unit of retrieval, reranking and generation: the 150–250-token chunks of
// data/corpus.hpp (title kept with every chunk; the default) or whole paragraphs (chunk 0 holding
// all sentences). Both come from the same pooled corpus (first copy of a title kept), chunked with
// the whitespace token counter, so a passage id "TITLE#CHUNK" means the same text in every program
// that uses the same unit; the corpus hash of an index tells the units apart.
#pragma once

#include <cstddef>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "hoprag/core/error.hpp"
#include "hoprag/data/corpus.hpp"

namespace hoprag::data {

enum class passage_unit { chunk, paragraph };

/// "chunk" or "paragraph"; throws config_error naming `flag` otherwise.
[[nodiscard]] inline passage_unit parse_passage_unit(std::string_view s, std::string_view flag = "--unit") {
    if (s == "chunk") return passage_unit::chunk;
    if (s == "paragraph") return passage_unit::paragraph;
    throw config_error(std::string(flag) + " must be chunk or paragraph, got \"" + std::string(s) + "\"");
}

[[nodiscard]] inline std::string_view unit_name(passage_unit u) { return u == passage_unit::chunk ? "chunk" : "paragraph"; }

/// The chunking of unit `u`: the default 150–250 tokens, or no limit (a paragraph stays whole).
[[nodiscard]] inline chunk_options unit_chunk_options(passage_unit u) {
    if (u == passage_unit::chunk) return {};
    constexpr auto no_limit = std::numeric_limits<std::size_t>::max() / 2;
    return {.min_tokens = no_limit, .max_tokens = no_limit};
}

/// The pooled corpus of `records` in unit `u`.
[[nodiscard]] inline corpus unit_corpus(const std::vector<hotpot_record>& records, passage_unit u) {
    return build_corpus(records, whitespace_counter{}, unit_chunk_options(u));
}

/// The passages of unit_corpus(records, u), in corpus order (first-seen paragraph order, chunks in order).
[[nodiscard]] inline std::vector<passage> corpus_passages(const std::vector<hotpot_record>& records, passage_unit u) {
    return unit_corpus(records, u).passages();
}

}  // namespace hoprag::data
