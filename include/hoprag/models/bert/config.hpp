// BERT encoder configuration (all-MiniLM, BGE and other BertModel checkpoints), read from a
// Hugging Face `config.json`. Required keys are checked and a missing or mistyped one throws
// `config_error` naming the file and key; `validate()` checks the sizes agree (hidden size a
// multiple of the head count, positive extents, a supported activation).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "hoprag/core/error.hpp"
#include "hoprag/io/json_fields.hpp"

namespace hoprag::models::bert {

/// Sizes and constants of a BERT encoder.
struct config {
    std::int64_t vocab_size = 0;               // word-piece vocabulary
    std::int64_t hidden_size = 0;              // d_model
    std::int64_t num_layers = 0;               // encoder blocks
    std::int64_t num_heads = 0;                // attention heads; head_dim = hidden_size / num_heads
    std::int64_t intermediate_size = 0;        // FFN width
    std::int64_t max_position_embeddings = 0;  // learned absolute positions
    std::int64_t type_vocab_size = 2;          // token type (segment) ids
    std::int64_t pad_token_id = 0;
    double layer_norm_eps = 1e-12;
    std::string hidden_act = "gelu";           // "gelu" (erf) or "gelu_new"/"gelu_pytorch_tanh" (tanh)

    std::int64_t head_dim() const { return hidden_size / num_heads; }

    /// Throws config_error (naming `origin`) if the sizes are inconsistent or unsupported.
    void validate(const std::string& origin) const {
        const auto positive = [&](std::int64_t v, const char* name) {
            if (v <= 0) throw config_error(origin + ": " + name + " is " + std::to_string(v) + ", expected > 0");
        };
        positive(vocab_size, "vocab_size");
        positive(hidden_size, "hidden_size");
        positive(num_layers, "num_hidden_layers");
        positive(num_heads, "num_attention_heads");
        positive(intermediate_size, "intermediate_size");
        positive(max_position_embeddings, "max_position_embeddings");
        positive(type_vocab_size, "type_vocab_size");
        if (hidden_size % num_heads != 0)
            throw config_error(origin + ": hidden_size " + std::to_string(hidden_size) + " is not a multiple of num_attention_heads " +
                               std::to_string(num_heads));
        if (hidden_act != "gelu" && hidden_act != "gelu_new" && hidden_act != "gelu_pytorch_tanh" && hidden_act != "relu")
            throw config_error(origin + ": hidden_act '" + hidden_act + "' is not supported (gelu, gelu_new, gelu_pytorch_tanh, relu)");
        if (!(layer_norm_eps > 0)) throw config_error(origin + ": layer_norm_eps must be > 0");
    }
};

/// Reads a BERT config from parsed config.json contents; `origin` names the file in errors.
inline config config_from_json(const nlohmann::json& j, const std::string& origin) {
    const io::json_fields f(j, origin, "a BERT config");
    config c;
    c.vocab_size = f.integer("vocab_size");
    c.hidden_size = f.integer("hidden_size");
    c.num_layers = f.integer("num_hidden_layers");
    c.num_heads = f.integer("num_attention_heads");
    c.intermediate_size = f.integer("intermediate_size");
    c.max_position_embeddings = f.integer("max_position_embeddings");
    c.type_vocab_size = f.integer_or("type_vocab_size", 2);
    c.pad_token_id = f.integer_or("pad_token_id", 0);
    c.layer_norm_eps = f.number_or("layer_norm_eps", 1e-12);
    c.hidden_act = f.string_or("hidden_act", "gelu");
    c.validate(origin);
    return c;
}

/// Reads `path` (a config.json, or a model folder holding one).
inline config load_config(const std::filesystem::path& path) {
    const auto file = std::filesystem::is_directory(path) ? path / "config.json" : path;
    return config_from_json(io::read_json_file(file), file.string());
}

}  // namespace hoprag::models::bert
