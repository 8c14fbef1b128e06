// Added (special) tokens: strings such as "[CLS]" or "<|im_start|>" that are matched in the raw
// input before any normalisation, leftmost-longest first as Hugging Face tokenizers does, and
// turned into their ids directly. The text between matches goes through the model's pipeline.
// Tokens marked matched = false (SentencePiece control pieces) are left out of the matching.
#pragma once

#include <bitset>
#include <string>
#include <string_view>
#include <vector>

#include "hoprag/tokenizers/vocab.hpp"

namespace hoprag::tokenizers {

/// One added token (tokenizer.json "added_tokens" entry).
struct added_token {
    std::string content;  ///< exact text matched in the input
    token_id id = 0;
    bool special = true;  ///< skipped by decode(..., skip_special_tokens = true)
    bool matched = true;  ///< false: never matched in the input (SentencePiece control pieces), decode only
};

/// The matcher over a fixed set of added tokens.
class added_token_matcher {
public:
    added_token_matcher() = default;
    explicit added_token_matcher(std::vector<added_token> tokens) {
        for (auto& t : tokens)
            if (t.matched) tokens_.push_back(std::move(t));
        for (const auto& t : tokens_)
            if (!t.content.empty()) first_.set(static_cast<unsigned char>(t.content[0]));
    }

    /// Splits `text`: calls `plain(std::string_view)` for text between matches (never empty) and
    /// `special(const added_token&)` for each match, in input order.
    template <class Plain, class Special>
    void split(std::string_view text, Plain&& plain, Special&& special) const {
        std::size_t start = 0;
        std::size_t i = 0;
        while (i < text.size()) {
            const added_token* best = nullptr;
            if (first_.test(static_cast<unsigned char>(text[i])))
                for (const auto& t : tokens_)
                    if (!t.content.empty() && (!best || t.content.size() > best->content.size()) &&
                        text.substr(i).starts_with(t.content))
                        best = &t;
            if (!best) {
                ++i;
                continue;
            }
            if (i > start) plain(text.substr(start, i - start));
            special(*best);
            i += best->content.size();
            start = i;
        }
        if (text.size() > start) plain(text.substr(start));
    }

    const std::vector<added_token>& tokens() const { return tokens_; }

private:
    std::vector<added_token> tokens_;
    std::bitset<256> first_;
};

}  // namespace hoprag::tokenizers
