// Llama-family decoder configuration (Llama, SmolLM2, Mistral), read from a Hugging Face
// `config.json` or from the `<arch>.*` metadata of a GGUF file (arch "llama" or "mistral"): layers,
// heads, KV heads, head dim, FFN size, RMSNorm eps, RoPE theta, tied embeddings, sliding window,
// vocabulary and context length. Missing or mistyped keys throw `config_error` naming the file
// and key; `validate()` checks that the sizes agree (heads a multiple of KV heads, ...).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "hoprag/core/error.hpp"
#include "hoprag/io/gguf.hpp"
#include "hoprag/io/json_fields.hpp"

namespace hoprag::models::llama {

/// Sizes and constants of a Llama-family decoder.
struct config {
    std::int64_t vocab_size = 0;
    std::int64_t hidden_size = 0;               // d_model
    std::int64_t num_layers = 0;                // decoder blocks
    std::int64_t num_heads = 0;                 // query heads
    std::int64_t num_kv_heads = 0;              // key/value heads (grouped-query attention)
    std::int64_t head_dim = 0;                  // per head; hidden_size / num_heads unless given
    std::int64_t intermediate_size = 0;         // SwiGLU FFN width
    std::int64_t max_position_embeddings = 0;   // trained context length
    double rms_norm_eps = 1e-6;
    double rope_theta = 10000.0;
    bool tie_word_embeddings = false;           // LM head shares the token embedding
    std::int64_t sliding_window = 0;            // attention window; 0 = full attention
    std::int64_t bos_token_id = -1;             // -1 = unknown
    std::int64_t eos_token_id = -1;

    /// Throws config_error (naming `origin`) if the sizes are inconsistent.
    void validate(const std::string& origin) const {
        const auto positive = [&](std::int64_t v, const char* name) {
            if (v <= 0) throw config_error(origin + ": " + name + " is " + std::to_string(v) + ", expected > 0");
        };
        positive(vocab_size, "vocab size");
        positive(hidden_size, "hidden size");
        positive(num_layers, "layer count");
        positive(num_heads, "head count");
        positive(num_kv_heads, "KV head count");
        positive(head_dim, "head dim");
        positive(intermediate_size, "FFN size");
        if (num_heads % num_kv_heads != 0)
            throw config_error(origin + ": head count " + std::to_string(num_heads) + " is not a multiple of the KV head count " +
                               std::to_string(num_kv_heads));
        if (head_dim % 2 != 0) throw config_error(origin + ": head dim " + std::to_string(head_dim) + " must be even for RoPE");
        if (!(rms_norm_eps > 0)) throw config_error(origin + ": RMSNorm eps must be > 0");
        if (!(rope_theta > 0)) throw config_error(origin + ": RoPE theta must be > 0");
        if (sliding_window < 0) throw config_error(origin + ": sliding window must be >= 0");
    }
};

/// Reads a config from parsed Hugging Face config.json contents; `origin` names the file.
inline config config_from_json(const nlohmann::json& j, const std::string& origin) {
    const io::json_fields f(j, origin, "a Llama/Mistral config");
    config c;
    c.vocab_size = f.integer("vocab_size");
    c.hidden_size = f.integer("hidden_size");
    c.num_layers = f.integer("num_hidden_layers");
    c.num_heads = f.integer("num_attention_heads");
    c.num_kv_heads = f.integer_or("num_key_value_heads", c.num_heads);
    c.head_dim = f.integer_or("head_dim", c.num_heads > 0 ? c.hidden_size / c.num_heads : 0);
    c.intermediate_size = f.integer("intermediate_size");
    c.max_position_embeddings = f.integer_or("max_position_embeddings", 0);
    c.rms_norm_eps = f.number("rms_norm_eps");
    c.rope_theta = f.number_or("rope_theta", 10000.0);
    c.tie_word_embeddings = f.boolean_or("tie_word_embeddings", false);
    c.sliding_window = f.boolean_or("use_sliding_window", true) ? f.integer_or("sliding_window", 0) : 0;
    c.bos_token_id = f.has("bos_token_id") ? f.integer("bos_token_id") : -1;
    c.eos_token_id = f.has("eos_token_id") && j.at("eos_token_id").is_number_integer() ? f.integer("eos_token_id") : -1;
    c.validate(origin);
    return c;
}

/// Reads `path` (a config.json, or a model folder holding one).
inline config load_config(const std::filesystem::path& path) {
    const auto file = std::filesystem::is_directory(path) ? path / "config.json" : path;
    return config_from_json(io::read_json_file(file), file.string());
}

/// Reads a config from GGUF metadata (`general.architecture` must be "llama" or "mistral").
/// Tied embeddings = the file has no separate `output.weight`. The vocabulary size comes from
/// `<arch>.vocab_size` or else the length of `tokenizer.ggml.tokens`.
inline config config_from_gguf(const io::gguf_file& g) {
    const std::string origin = g.path().string();
    const auto fail = [&](const std::string& what) { return config_error(origin + ": " + what); };
    const auto* arch_value = g.find("general.architecture");
    if (arch_value == nullptr || arch_value->as_string() == nullptr) throw fail("metadata key 'general.architecture' is missing or not a string");
    const std::string arch(*arch_value->as_string());
    if (arch != "llama" && arch != "mistral") throw fail("architecture '" + arch + "' is not a Llama-family model (llama, mistral)");
    const auto integer = [&](const std::string& key) -> std::int64_t {
        const auto* v = g.find(key);
        if (v == nullptr) throw fail("metadata key '" + key + "' is missing (needed for a Llama config)");
        const auto i = v->as_int();
        if (!i) throw fail("metadata key '" + key + "' is a " + std::string(io::gguf_type_name(v->type())) + ", expected an integer");
        return *i;
    };
    const auto integer_or = [&](const std::string& key, std::int64_t fallback) { return g.find(key) ? integer(key) : fallback; };
    const auto number = [&](const std::string& key) -> double {
        const auto* v = g.find(key);
        if (v == nullptr) throw fail("metadata key '" + key + "' is missing (needed for a Llama config)");
        const auto d = v->as_double();
        if (!d) throw fail("metadata key '" + key + "' is a " + std::string(io::gguf_type_name(v->type())) + ", expected a number");
        return *d;
    };
    config c;
    c.num_layers = integer(arch + ".block_count");
    c.hidden_size = integer(arch + ".embedding_length");
    c.intermediate_size = integer(arch + ".feed_forward_length");
    c.num_heads = integer(arch + ".attention.head_count");
    c.num_kv_heads = integer_or(arch + ".attention.head_count_kv", c.num_heads);
    c.head_dim = integer_or(arch + ".attention.key_length", c.num_heads > 0 ? c.hidden_size / c.num_heads : 0);
    c.max_position_embeddings = integer_or(arch + ".context_length", 0);
    c.rms_norm_eps = number(arch + ".attention.layer_norm_rms_epsilon");
    c.rope_theta = g.find(arch + ".rope.freq_base") ? number(arch + ".rope.freq_base") : 10000.0;
    c.sliding_window = integer_or(arch + ".attention.sliding_window", 0);
    if (g.find(arch + ".vocab_size")) {
        c.vocab_size = integer(arch + ".vocab_size");
    } else if (const auto* tokens = g.find("tokenizer.ggml.tokens"); tokens && tokens->as_array()) {
        c.vocab_size = static_cast<std::int64_t>(tokens->as_array()->size());
    } else {
        throw fail("neither '" + arch + ".vocab_size' nor 'tokenizer.ggml.tokens' gives the vocabulary size");
    }
    c.tie_word_embeddings = g.find_tensor("output.weight") == nullptr;
    c.bos_token_id = integer_or("tokenizer.ggml.bos_token_id", -1);
    c.eos_token_id = integer_or("tokenizer.ggml.eos_token_id", -1);
    c.validate(origin);
    return c;
}

}  // namespace hoprag::models::llama
