// Tokenizer from llama.cpp GGUF metadata (tokenizer.ggml.*): the plain struct a GGUF reader fills,
// and its translation into a tokenizer_spec. Supported now: model "gpt2" (byte-level BPE) with the
// pre-tokenisers "default"/"gpt2" (GPT-2 regex) and "smollm" (individual digits, then the GPT-2
// regex). Control (3) and user-defined (4) tokens become added tokens matched before the model.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hoprag/core/error.hpp"
#include "hoprag/tokenizers/tokenizer.hpp"

namespace hoprag::tokenizers {

/// The tokenizer.ggml.* keys of a GGUF file.
struct gguf_tokenizer_metadata {
    std::string model;                       ///< tokenizer.ggml.model ("gpt2", "llama", "bert", ...)
    std::string pre = "default";             ///< tokenizer.ggml.pre
    std::vector<std::string> tokens;         ///< tokenizer.ggml.tokens, id order
    std::vector<std::int32_t> token_types;   ///< tokenizer.ggml.token_type (1 normal .. 6 byte), same size or empty
    std::vector<std::string> merges;         ///< tokenizer.ggml.merges, "left right" in rank order
    std::optional<token_id> bos_id;          ///< tokenizer.ggml.bos_token_id
    bool add_bos = false;                    ///< tokenizer.ggml.add_bos_token
};

/// Builds the spec; throws config_error for an unsupported model or pre-tokeniser and format_error
/// (naming `source`) for inconsistent arrays.
inline tokenizer_spec spec_from_gguf(const gguf_tokenizer_metadata& m, const std::string& source) {
    tokenizer_spec s;
    s.source = source;
    if (m.model != "gpt2")
        throw config_error(source + ": tokenizer.ggml.model \"" + m.model + "\" is not supported yet (supported: gpt2)");
    if (m.pre == "smollm") s.individual_digits = true;
    else if (m.pre != "default" && m.pre != "gpt2")
        throw config_error(source + ": tokenizer.ggml.pre \"" + m.pre + "\" is not supported (supported: default, gpt2, smollm)");
    if (!m.token_types.empty() && m.token_types.size() != m.tokens.size())
        throw format_error(source + ": tokenizer.ggml.token_type has " + std::to_string(m.token_types.size()) +
                           " entries, expected one per token (" + std::to_string(m.tokens.size()) + ")");
    s.model = model_kind::bpe;
    s.vocab = m.tokens;
    s.merges.reserve(m.merges.size());
    for (const auto& str : m.merges) {
        const auto sp = str.find(' ', 1);
        if (sp == std::string::npos) throw format_error(source + ": tokenizer.ggml.merges entry \"" + str + "\" has no space");
        s.merges.emplace_back(str.substr(0, sp), str.substr(sp + 1));
    }
    s.pre_tokenizer = pre_tokenizer_kind::byte_level;
    s.decoder = decoder_kind::byte_level;
    for (std::size_t i = 0; i < m.token_types.size(); ++i)
        if (m.token_types[i] == 3 || m.token_types[i] == 4)
            s.added.push_back({m.tokens[i], static_cast<token_id>(i), m.token_types[i] == 3});
    if (m.add_bos) {
        if (!m.bos_id) throw format_error(source + ": tokenizer.ggml.add_bos_token is set but bos_token_id is missing");
        s.single_template = {{false, 0, {*m.bos_id}, 0}, {true, 0, {}, 0}};
        s.pair_template = {{false, 0, {*m.bos_id}, 0}, {true, 0, {}, 0}, {false, 0, {*m.bos_id}, 1}, {true, 1, {}, 1}};
    }
    return s;
}

}  // namespace hoprag::tokenizers
