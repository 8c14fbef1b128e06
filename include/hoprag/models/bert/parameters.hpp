// BERT encoder parameters in a backend's memory, and their loading from a Hugging Face checkpoint.
// `layer_parameters` and `parameters` are plain structs of buffers with the shape on every field;
// Boost.PFR walks them in field order next to `hf_layer_names` / `hf_embedding_names`, the
// Hugging Face tensor names of the same fields (BertModel; a "bert." prefix, as in
// BertForSequenceClassification checkpoints, is found automatically). Every tensor's shape is
// checked against the config before it is converted to f32 and uploaded; a missing or misshapen
// tensor throws format_error naming the checkpoint, the tensor and the expected shape.
#pragma once

#include <boost/pfr.hpp>

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "hoprag/backend/buffer.hpp"
#include "hoprag/core/error.hpp"
#include "hoprag/io/safetensors_index.hpp"
#include "hoprag/models/bert/config.hpp"

namespace hoprag::models::bert {

/// One post-LN encoder block. Linear weights keep PyTorch's [out, in] layout (GEMMs use trans_b).
template <class Context>
struct layer_parameters {
    buffer<Context, float> q_w;         // [H, H]
    buffer<Context, float> q_b;         // [H]
    buffer<Context, float> k_w;         // [H, H]
    buffer<Context, float> k_b;         // [H]
    buffer<Context, float> v_w;         // [H, H]
    buffer<Context, float> v_b;         // [H]
    buffer<Context, float> attn_out_w;  // [H, H]
    buffer<Context, float> attn_out_b;  // [H]
    buffer<Context, float> attn_ln_w;   // [H]
    buffer<Context, float> attn_ln_b;   // [H]
    buffer<Context, float> ffn_in_w;    // [I, H]
    buffer<Context, float> ffn_in_b;    // [I]
    buffer<Context, float> ffn_out_w;   // [H, I]
    buffer<Context, float> ffn_out_b;   // [H]
    buffer<Context, float> ffn_ln_w;    // [H]
    buffer<Context, float> ffn_ln_b;    // [H]
};

/// Hugging Face names of layer_parameters' fields, in field order, after "encoder.layer.N.".
inline constexpr std::array<std::string_view, 16> hf_layer_names{
    "attention.self.query.weight", "attention.self.query.bias",   "attention.self.key.weight",
    "attention.self.key.bias",     "attention.self.value.weight", "attention.self.value.bias",
    "attention.output.dense.weight", "attention.output.dense.bias", "attention.output.LayerNorm.weight",
    "attention.output.LayerNorm.bias", "intermediate.dense.weight", "intermediate.dense.bias",
    "output.dense.weight",         "output.dense.bias",           "output.LayerNorm.weight",
    "output.LayerNorm.bias"};

/// Embeddings (word, position, token type) and their LayerNorm.
template <class Context>
struct embedding_parameters {
    buffer<Context, float> word;        // [V, H]
    buffer<Context, float> position;    // [P, H]
    buffer<Context, float> token_type;  // [T, H]
    buffer<Context, float> ln_w;        // [H]
    buffer<Context, float> ln_b;        // [H]
};

/// Hugging Face names of embedding_parameters' fields, in field order.
inline constexpr std::array<std::string_view, 5> hf_embedding_names{
    "embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight",
    "embeddings.token_type_embeddings.weight", "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias"};

static_assert(boost::pfr::tuple_size_v<layer_parameters<int>> == hf_layer_names.size(),
              "every layer_parameters field needs its Hugging Face name in hf_layer_names");
static_assert(boost::pfr::tuple_size_v<embedding_parameters<int>> == hf_embedding_names.size(),
              "every embedding_parameters field needs its Hugging Face name in hf_embedding_names");

template <class Context>
struct parameters {
    embedding_parameters<Context> embeddings;
    std::vector<layer_parameters<Context>> layers;  // [num_layers]
};

/// Expected shapes of layer_parameters' fields, in field order.
inline std::array<std::vector<std::int64_t>, 16> layer_shapes(const config& c) {
    const std::int64_t H = c.hidden_size, I = c.intermediate_size;
    return {{{H, H}, {H}, {H, H}, {H}, {H, H}, {H}, {H, H}, {H}, {H}, {H}, {I, H}, {I}, {H, I}, {H}, {H}, {H}}};
}
/// Expected shapes of embedding_parameters' fields, in field order.
inline std::array<std::vector<std::int64_t>, 5> embedding_shapes(const config& c) {
    const std::int64_t H = c.hidden_size;
    return {{{c.vocab_size, H}, {c.max_position_embeddings, H}, {c.type_vocab_size, H}, {H}, {H}}};
}

namespace detail {

inline std::string shape_string(const std::vector<std::int64_t>& s) {
    std::string out = "[";
    for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
    return out + "]";
}

/// Finds `name` (or "bert." + name), checks its shape and uploads it as f32 into a new buffer.
template <class Context>
buffer<Context, float> load_tensor(Context& ctx, const io::safetensors_checkpoint& ckpt, const std::string& name,
                                   const std::vector<std::int64_t>& shape, const std::string& origin) {
    const io::safetensors_tensor* t = ckpt.find(name);
    if (!t) t = ckpt.find("bert." + name);
    if (!t) throw format_error(origin + ": tensor '" + name + "' (shape " + shape_string(shape) + ") is missing; is this a BERT checkpoint matching its config.json?");
    std::vector<std::int64_t> got;
    for (int d = 0; d < t->dims.rank; ++d) got.push_back(t->dims[d]);
    if (got != shape)
        throw format_error(origin + ": tensor '" + name + "' has shape " + shape_string(got) + ", expected " +
                           shape_string(shape) + " from config.json");
    return buffer<Context, float>(ctx, t->to_f32());
}

}  // namespace detail

/// Loads every parameter of a BERT encoder from `checkpoint` (a .safetensors file, a sharded
/// index, or a model folder holding model.safetensors) into the backend's memory.
template <class Context>
parameters<Context> load_parameters(Context& ctx, const config& c, const std::filesystem::path& checkpoint) {
    const io::safetensors_checkpoint ckpt(checkpoint);
    const std::string origin = checkpoint.string();
    parameters<Context> p;
    const auto eshapes = embedding_shapes(c);
    boost::pfr::for_each_field(p.embeddings, [&](auto& field, std::size_t i) {
        field = detail::load_tensor(ctx, ckpt, std::string(hf_embedding_names[i]), eshapes[i], origin);
    });
    const auto lshapes = layer_shapes(c);
    p.layers.resize(static_cast<std::size_t>(c.num_layers));
    for (std::int64_t l = 0; l < c.num_layers; ++l) {
        const std::string prefix = "encoder.layer." + std::to_string(l) + ".";
        boost::pfr::for_each_field(p.layers[static_cast<std::size_t>(l)], [&](auto& field, std::size_t i) {
            field = detail::load_tensor(ctx, ckpt, prefix + std::string(hf_layer_names[i]), lshapes[i], origin);
        });
    }
    return p;
}

/// Number of parameters (PFR walk).
template <class Context>
std::int64_t count(const parameters<Context>& p) {
    std::int64_t n = 0;
    const auto add = [&](const auto& b) { n += static_cast<std::int64_t>(b.size()); };
    boost::pfr::for_each_field(p.embeddings, add);
    for (const auto& l : p.layers) boost::pfr::for_each_field(l, add);
    return n;
}

}  // namespace hoprag::models::bert
