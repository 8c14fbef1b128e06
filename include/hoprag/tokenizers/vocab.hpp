// Token vocabulary shared by every tokenizer model: id -> token string and token string -> id, with
// heterogeneous lookup by std::string_view so the hot encode loops never allocate for a lookup.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "hoprag/core/error.hpp"

namespace hoprag::tokenizers {

/// Token id type (the vocabularies of BERT, GPT-2 and Llama families fit easily in 31 bits).
using token_id = std::int32_t;

struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

/// A vocabulary: `tokens[id]` is the token string; ids are dense 0..size()-1 (gaps hold "").
class vocabulary {
public:
    vocabulary() = default;

    /// Builds from id-ordered tokens. Throws format_error (naming `source`) on a duplicate token.
    explicit vocabulary(std::vector<std::string> tokens, const std::string& source = "vocabulary")
        : tokens_(std::move(tokens)) {
        index_.reserve(tokens_.size());
        for (std::size_t i = 0; i < tokens_.size(); ++i) {
            if (tokens_[i].empty()) continue;
            if (!index_.emplace(tokens_[i], static_cast<token_id>(i)).second)
                throw format_error(source + ": token \"" + tokens_[i] + "\" appears twice (ids " +
                                   std::to_string(index_.find(tokens_[i])->second) + " and " + std::to_string(i) + ")");
        }
    }

    /// Id of `token`, or nullopt when it is not in the vocabulary.
    std::optional<token_id> find(std::string_view token) const {
        const auto it = index_.find(token);
        if (it == index_.end()) return std::nullopt;
        return it->second;
    }

    /// Token string of `id` (empty for an id outside the vocabulary).
    const std::string& token(token_id id) const {
        static const std::string empty;
        return id >= 0 && static_cast<std::size_t>(id) < tokens_.size() ? tokens_[static_cast<std::size_t>(id)] : empty;
    }

    std::size_t size() const { return tokens_.size(); }

private:
    std::vector<std::string> tokens_;
    std::unordered_map<std::string, token_id, string_hash, std::equal_to<>> index_;
};

}  // namespace hoprag::tokenizers
