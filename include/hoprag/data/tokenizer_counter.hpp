// A token_counter (data/chunking.hpp) backed by a real tokenizer (tokenizers/tokenizer.hpp:
// WordPiece for MiniLM, byte-level BPE for SmolLM2). It reports one span per whitespace-separated
// word, with that word's token count: the word is encoded on its own together with the single
// space before it (so byte-level BPE sees " word" as it does in running text). Counts are additive
// over words because both pre-tokenisers split at whitespace: exact for WordPiece, and exact for
// byte-level BPE on text whose words are separated by single spaces (runs of several spaces or
// newlines may differ by a token). Special tokens ([CLS], [SEP], BOS) are not counted: the chunker
// bounds the passage text, and the caller adds the model's specials to its budget.
#pragma once

#include <concepts>
#include <string_view>
#include <vector>

#include "hoprag/data/chunking.hpp"

namespace hoprag::data {

/// Counts the tokens `Tokenizer::encode_raw(text, ids)` produces, word by word. Holds a pointer:
/// the tokenizer must outlive the counter.
template <class Tokenizer, class Id = std::int32_t>
requires requires(const Tokenizer& t, std::string_view s, std::vector<Id>& out) {
    t.encode_raw(s, out);
}
class tokenizer_counter {
public:
    explicit tokenizer_counter(const Tokenizer& tok) : tok_(&tok) {}

    [[nodiscard]] std::vector<token_span> spans(std::string_view text) const {
        std::vector<token_span> words = whitespace_counter{}.spans(text);
        std::vector<Id> ids;
        for (auto& w : words) {
            const std::size_t from = w.begin > 0 && text[w.begin - 1] == ' ' ? w.begin - 1 : w.begin;
            ids.clear();
            tok_->encode_raw(text.substr(from, w.end - from), ids);
            w.tokens = ids.size();
        }
        return words;
    }

private:
    const Tokenizer* tok_;
};

}  // namespace hoprag::data
