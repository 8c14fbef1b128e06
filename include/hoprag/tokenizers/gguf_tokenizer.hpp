// Tokenizer from a GGUF file: reads the tokenizer.ggml.* keys through hoprag's GGUF reader
// (io/gguf.hpp) into a `gguf_tokenizer_metadata` and builds the tokenizer from it (gguf_vocab.hpp).
// Every key is type-checked: a key of the wrong type, a token type or BOS id out of range, or a
// missing model/tokens key throws `format_error` naming the file and the key. Example:
//   const hoprag::io::gguf_file f("SmolLM2-135M-Instruct.Q4_1.gguf");
//   const auto tok = hoprag::tokenizers::load_gguf_tokenizer(f);
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <string_view>

#include "hoprag/core/error.hpp"
#include "hoprag/io/gguf.hpp"
#include "hoprag/tokenizers/gguf_vocab.hpp"
#include "hoprag/tokenizers/tokenizer.hpp"

namespace hoprag::tokenizers {

/// GGUF metadata as the reader holds it (key -> value).
using gguf_metadata_map = std::map<std::string, io::gguf_value, std::less<>>;

/// The tokenizer.ggml.* keys of `meta` (a GGUF file's metadata); `source` names the file in errors.
/// Required: tokenizer.ggml.model (string), tokenizer.ggml.tokens (array of strings). Optional:
/// .pre (string), .token_type (integer array), .merges (array of strings), .bos_token_id (integer,
/// < number of tokens), .add_bos_token (bool). Throws format_error for a missing or mistyped key.
inline gguf_tokenizer_metadata gguf_metadata_from(const gguf_metadata_map& meta, const std::string& source) {
    const auto fail = [&](std::string_view key, const std::string& what) {
        return format_error(source + ": GGUF metadata key '" + std::string(key) + "' " + what);
    };
    const auto find = [&](std::string_view key) -> const io::gguf_value* {
        const auto it = meta.find(key);
        return it == meta.end() ? nullptr : &it->second;
    };
    const auto type_name = [](const io::gguf_value& v) { return std::string(io::gguf_type_name(v.type())); };
    const auto string_of = [&](std::string_view key, bool required) -> std::optional<std::string> {
        const auto* v = find(key);
        if (v == nullptr) {
            if (required) throw fail(key, "is missing (the file holds no tokenizer)");
            return std::nullopt;
        }
        const auto* s = v->as_string();
        if (s == nullptr) throw fail(key, "is a " + type_name(*v) + ", expected a string");
        return std::string(*s);
    };
    const auto strings_of = [&](std::string_view key, bool required) -> std::vector<std::string> {
        const auto* v = find(key);
        if (v == nullptr) {
            if (required) throw fail(key, "is missing (the file holds no tokenizer)");
            return {};
        }
        const auto* a = v->as_array();
        if (a == nullptr || a->type != io::gguf_type::string)
            throw fail(key, "is a " + (a ? "array of " + std::string(io::gguf_type_name(a->type)) : type_name(*v)) + ", expected an array of strings");
        std::vector<std::string> out;
        out.reserve(a->size());
        for (const auto sv : a->strings()) out.emplace_back(sv);
        return out;
    };

    gguf_tokenizer_metadata m;
    m.model = *string_of("tokenizer.ggml.model", true);
    if (auto pre = string_of("tokenizer.ggml.pre", false)) m.pre = std::move(*pre);
    m.tokens = strings_of("tokenizer.ggml.tokens", true);
    m.merges = strings_of("tokenizer.ggml.merges", false);
    if (const auto* v = find("tokenizer.ggml.token_type")) {
        const auto* a = v->as_array();
        if (a == nullptr || gguf_scalar_size(a->type) == 0 || a->type == io::gguf_type::f32 || a->type == io::gguf_type::f64 ||
            a->type == io::gguf_type::boolean)
            throw fail("tokenizer.ggml.token_type", "is a " + type_name(*v) + ", expected an array of integers");
        m.token_types.reserve(a->size());
        for (std::size_t i = 0; i < a->size(); ++i) {
            const auto t = a->at(i).as_int();
            if (!t || *t < 0 || *t > 6)
                throw fail("tokenizer.ggml.token_type", "element " + std::to_string(i) + " is not a token type 0..6");
            m.token_types.push_back(static_cast<std::int32_t>(*t));
        }
    }
    if (const auto* v = find("tokenizer.ggml.bos_token_id")) {
        const auto id = v->as_int();
        if (!id) throw fail("tokenizer.ggml.bos_token_id", "is a " + type_name(*v) + ", expected an integer");
        if (*id < 0 || static_cast<std::uint64_t>(*id) >= m.tokens.size())
            throw fail("tokenizer.ggml.bos_token_id", "= " + std::to_string(*id) + " is not a token id (the vocabulary has " +
                                                          std::to_string(m.tokens.size()) + " tokens)");
        m.bos_id = static_cast<token_id>(*id);
    }
    if (const auto* v = find("tokenizer.ggml.add_bos_token")) {
        const auto* b = v->as_bool();
        if (b == nullptr) throw fail("tokenizer.ggml.add_bos_token", "is a " + type_name(*v) + ", expected a bool");
        m.add_bos = *b;
    }
    return m;
}

/// The tokenizer stored in an open GGUF file. Throws format_error (missing or mistyped keys,
/// inconsistent arrays) or config_error (a tokenizer model or pre-tokeniser hoprag does not support).
inline tokenizer load_gguf_tokenizer(const io::gguf_file& file) {
    const std::string source = file.path().string();
    return tokenizer(spec_from_gguf(gguf_metadata_from(file.metadata(), source), source));
}

/// Same, opening `path` first (io_error if it cannot be read).
inline tokenizer load_gguf_tokenizer(const std::filesystem::path& path) { return load_gguf_tokenizer(io::gguf_file(path)); }

}  // namespace hoprag::tokenizers
