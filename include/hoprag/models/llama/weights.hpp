// Llama-family decoder weights in backend memory, and their loading. `layer_weights` and `weights`
// are plain structs of `buffer<Context, float>` with a shape comment per field; Boost.PFR walks a
// layer's fields in declaration order next to two name tables (GGUF `blk.N.*` and Hugging Face
// `model.layers.N.*`), so allocation, loading and name mapping never list the fields twice.
// Loading reads every tensor from a `weight_source` (a GGUF file, dequantised to f32, or a possibly
// sharded HF safetensors checkpoint) and checks the set of names and every shape up front: one
// format_error lists all missing, unexpected and mis-shaped tensors. Tensors stream one at a time
// through one host f32 buffer, and the sources drop each tensor's mapped file pages once read, so
// host memory holds about one tensor beyond what the backend keeps; with a `linear_sink` the block
// linears never reach backend memory in f32 (the generator quantises each to NF4 as it arrives).
// RoPE style follows the file: GGUF llama files store Q/K rows permuted for interleaved pairs
// (llama.cpp's convert script), HF files use rotate-half; `weights::rope` records which, and the
// forward applies it unchanged.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/pfr.hpp>
#include <xtensor/xnoalias.hpp>
#include <xtensor/xview.hpp>

#include "hoprag/backend/buffer.hpp"
#include "hoprag/backend/ops.hpp"
#include "hoprag/core/error.hpp"
#include "hoprag/core/shape.hpp"
#include "hoprag/core/xt_adapt.hpp"
#include "hoprag/io/gguf.hpp"
#include "hoprag/io/safetensors_index.hpp"
#include "hoprag/models/llama/config.hpp"

namespace hoprag::models::llama {

/// One decoder block. Linear weights are [out, in] row-major (y = x W^T), as HF and GGUF store them.
template <class Context>
struct layer_weights {
    buffer<Context, float> attn_norm;  // [hidden]
    buffer<Context, float> wq;         // [heads * head_dim, hidden]
    buffer<Context, float> wk;         // [kv_heads * head_dim, hidden]
    buffer<Context, float> wv;         // [kv_heads * head_dim, hidden]
    buffer<Context, float> wo;         // [hidden, heads * head_dim]
    buffer<Context, float> ffn_norm;   // [hidden]
    buffer<Context, float> w_gate;     // [ffn, hidden]
    buffer<Context, float> w_up;       // [ffn, hidden]
    buffer<Context, float> w_down;     // [hidden, ffn]
};

inline constexpr std::size_t layer_field_count = 9;
/// GGUF names of the layer fields (after "blk.N."; ".weight" follows).
inline constexpr std::array<std::string_view, layer_field_count> gguf_layer_names = {
    "attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down"};
/// Hugging Face names of the layer fields (after "model.layers.N."; ".weight" follows).
inline constexpr std::array<std::string_view, layer_field_count> hf_layer_names = {
    "input_layernorm", "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
    "post_attention_layernorm", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"};

/// Shapes of the layer fields, in field order.
inline std::array<shape, layer_field_count> layer_shapes(const config& c) {
    const std::int64_t h = c.hidden_size, q = c.num_heads * c.head_dim, kv = c.num_kv_heads * c.head_dim;
    const std::int64_t f = c.intermediate_size;
    return {shape{h}, shape{q, h}, shape{kv, h}, shape{kv, h}, shape{h, q}, shape{h}, shape{f, h}, shape{f, h}, shape{h, f}};
}

/// The whole decoder.
template <class Context>
struct weights {
    config cfg;
    rope_style rope = rope_style::half;          // pair layout the Q/K rows were stored for
    buffer<Context, float> embed;                // [vocab, hidden]
    std::vector<layer_weights<Context>> layers;  // [num_layers]
    buffer<Context, float> final_norm;           // [hidden]
    buffer<Context, float> lm_head;              // [vocab, hidden]; empty when tied to embed

    /// The LM head matrix [vocab, hidden] (the embedding when tied).
    const float* head() const { return cfg.tie_word_embeddings ? embed.data() : lm_head.data(); }
};

static_assert(boost::pfr::tuple_size_v<layer_weights<int>> == layer_field_count,
              "layer_weights and the name tables must list the same fields");

/// A named set of host tensors the loader can read: shapes by name, and a reader that fills f32.
struct weight_source {
    std::string origin;                                             // file or folder, for messages
    std::map<std::string, shape> shapes;                            // every tensor in the source
    std::function<void(const std::string&, std::span<float>)> read; // fill f32 data of one tensor
    rope_style rope = rope_style::half;                             // layout of the stored Q/K rows
    bool gguf_names = false;                                        // blk.N.* (true) or model.layers.N.*
};

/// Tensors of a GGUF file (quantised types dequantised on read). Keeps a reference to `g`.
inline weight_source gguf_source(const io::gguf_file& g) {
    weight_source s;
    s.origin = g.path().string();
    for (const auto& t : g.tensors()) s.shapes.emplace(std::string(t.name), t.dims());
    s.read = [&g](const std::string& name, std::span<float> out) {
        const auto& t = g.tensor(name);
        io::dequantize(t, out);
        io::release_pages(t.bytes);
    };
    s.rope = rope_style::interleaved;  // llama.cpp permutes Q/K rows for ggml's interleaved RoPE
    s.gguf_names = true;
    return s;
}

/// Tensors of a GGUF file in Hugging Face's layout: attn_q / attn_k rows moved back from
/// llama.cpp's interleaved-pair order to rotate-half order (row h*D + 2i + j -> h*D + j*D/2 + i
/// within each head h), RoPE style `half`. The model computes the same function as with
/// gguf_source, but its Q/K rows (and so LoRA B rows of q_proj / k_proj) line up with the Hugging
/// Face checkpoint: PEFT adapters trained on the HF model apply unchanged, and adapters trained
/// here load into PEFT. Keeps a reference to `g`.
inline weight_source gguf_source_hf_layout(const io::gguf_file& g, const config& c) {
    weight_source s = gguf_source(g);
    s.read = [&g, c](const std::string& name, std::span<float> out) {
        const auto& t = g.tensor(name);
        io::dequantize(t, out);
        io::release_pages(t.bytes);
        const bool q = name.ends_with("attn_q.weight"), k = name.ends_with("attn_k.weight");
        if (!q && !k) return;
        const std::int64_t heads = q ? c.num_heads : c.num_kv_heads, D = c.head_dim, cols = c.hidden_size;
        const std::vector<float> in(out.begin(), out.end());
        // rows as grids: stored [head, pair i, member j] (interleaved), wanted [head, half j, i]
        const auto from = xt_adapt<4>(in, {heads, D / 2, 2, cols});
        auto to = xt_adapt<4>(out, {heads, 2, D / 2, cols});
        for (std::int64_t h = 0; h < heads; ++h)
            for (std::int64_t i = 0; i < D / 2; ++i)
                for (std::int64_t j = 0; j < 2; ++j) xt::noalias(xt::view(to, h, j, i)) = xt::view(from, h, i, j);  // one row copy
    };
    s.rope = rope_style::half;
    return s;
}

/// Tensors of a Hugging Face safetensors checkpoint (any float type converted). Keeps a reference.
inline weight_source hf_source(const io::safetensors_checkpoint& ck, std::string origin) {
    weight_source s;
    s.origin = std::move(origin);
    for (const auto& [name, t] : ck.tensors()) s.shapes.emplace(name, t->dims);
    s.read = [&ck](const std::string& name, std::span<float> out) {
        const auto& t = ck.at(name);
        t.to_f32(out);
        io::release_pages(t.bytes);
    };
    s.rope = rope_style::half;
    return s;
}

namespace detail {
struct wanted_tensor {
    std::string name;
    shape dims;
};

/// Every tensor the decoder needs from `s`, with its shape, in load order.
inline std::vector<wanted_tensor> wanted_tensors(const config& c, const weight_source& s) {
    std::vector<wanted_tensor> w;
    const std::int64_t h = c.hidden_size;
    w.push_back({s.gguf_names ? "token_embd.weight" : "model.embed_tokens.weight", shape{c.vocab_size, h}});
    const auto shapes = layer_shapes(c);
    for (std::int64_t l = 0; l < c.num_layers; ++l)
        for (std::size_t f = 0; f < layer_field_count; ++f)
            w.push_back({(s.gguf_names ? "blk." : "model.layers.") + std::to_string(l) + "." +
                             std::string(s.gguf_names ? gguf_layer_names[f] : hf_layer_names[f]) + ".weight",
                         shapes[f]});
    w.push_back({s.gguf_names ? "output_norm.weight" : "model.norm.weight", shape{h}});
    if (!c.tie_word_embeddings) w.push_back({s.gguf_names ? "output.weight" : "lm_head.weight", shape{c.vocab_size, h}});
    return w;
}

/// Names a source may hold that the decoder does not use (rotary caches).
inline bool ignorable(const std::string& name) { return name.find("rotary_emb.inv_freq") != std::string::npos; }
}  // namespace detail

/// Whether field `f` of layer_weights is a linear (not one of the two norms).
constexpr bool is_linear_field(std::size_t f) { return f != 0 && f != 5; }

/// Takes block linear `field` (index into layer_weights) of `layer` as host f32 [out, in], valid
/// during the call only; load_weights then leaves that field empty.
using linear_sink = std::function<void(std::size_t layer, std::size_t field, std::span<const float> w)>;

/// Loads every decoder weight from `src` into backend memory, the block linears into `sink` when
/// one is given. Throws format_error listing all missing, unexpected and mis-shaped tensors
/// before reading any data.
template <class Context>
weights<Context> load_weights(Context& ctx, const config& c, const weight_source& src, const linear_sink& sink = {}) {
    c.validate(src.origin);
    const auto want = detail::wanted_tensors(c, src);
    std::string missing, bad_shape, unexpected;
    std::map<std::string, bool> used;
    for (const auto& w : want) {
        const auto it = src.shapes.find(w.name);
        if (it == src.shapes.end()) missing += (missing.empty() ? "" : ", ") + w.name;
        else if (!(it->second == w.dims)) bad_shape += (bad_shape.empty() ? "" : ", ") + w.name + " is " + it->second.str() + " (expected " + w.dims.str() + ")";
        used[w.name] = true;
    }
    for (const auto& [name, dims] : src.shapes)
        if (!used.count(name) && !detail::ignorable(name)) unexpected += (unexpected.empty() ? "" : ", ") + name;
    if (!missing.empty() || !bad_shape.empty() || !unexpected.empty()) {
        std::string msg = src.origin + ": tensors do not match a Llama decoder with " + std::to_string(c.num_layers) + " layers";
        if (!missing.empty()) msg += "; missing: " + missing;
        if (!bad_shape.empty()) msg += "; wrong shape: " + bad_shape;
        if (!unexpected.empty()) msg += "; unexpected: " + unexpected;
        throw format_error(msg);
    }
    weights<Context> m;
    m.cfg = c;
    m.rope = src.rope;
    std::vector<float> host;
    std::size_t next = 0;
    const auto read_next = [&] {
        const auto& w = want[next++];
        host.resize(static_cast<std::size_t>(w.dims.numel()));
        src.read(w.name, host);
    };
    const auto fill = [&](buffer<Context, float>& b) {
        read_next();
        b = buffer<Context, float>(ctx, host);
    };
    fill(m.embed);
    m.layers.resize(static_cast<std::size_t>(c.num_layers));
    for (std::size_t l = 0; l < m.layers.size(); ++l)
        boost::pfr::for_each_field(m.layers[l], [&](buffer<Context, float>& b, std::size_t f) {
            if (!sink || !is_linear_field(f)) return fill(b);
            read_next();
            sink(l, f, host);
        });
    fill(m.final_norm);
    if (!c.tie_word_embeddings) fill(m.lm_head);
    return m;
}

/// Config and weights of a GGUF Llama/Mistral file.
template <class Context>
weights<Context> load_gguf(Context& ctx, const io::gguf_file& g) {
    return load_weights(ctx, config_from_gguf(g), gguf_source(g));
}

/// Config and weights of a Hugging Face folder (config.json + model.safetensors or sharded index).
template <class Context>
weights<Context> load_hf(Context& ctx, const std::filesystem::path& folder) {
    const io::safetensors_checkpoint ck(folder);
    return load_weights(ctx, load_config(folder), hf_source(ck, folder.string()));
}

}  // namespace hoprag::models::llama
