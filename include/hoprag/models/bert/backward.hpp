// BERT encoder training pass: a forward that keeps what the backward needs, and the backward
// through every layer (llm.c style, DESIGN rule 3). `train_activations` is planned up front for a
// token budget; per layer it keeps q, k, v, the attention weights, the pre-LayerNorm sums with
// their statistics and the FFN activations. With `checkpointing` it keeps only each layer's input
// and recomputes the layer in the backward (one scratch layer), which gives bit-identical
// gradients for a fraction of the memory. Attention runs by strided batched GEMMs with a masked
// row softmax (the gemm path of forward.hpp, same function); the backward of that path is
//   dV = P^T dO,  dP = dO V^T,  dS = softmax'(P) dP,  dQ = s dS K,  dK = s dS^T Q.
// Parameter gradients ACCUMULATE into a `parameters`-shaped struct (zero it per window); the
// gradient of the input embeddings reaches word, position and token-type tables and the
// embedding LayerNorm. No dropout (the reranker trains deterministically).
#pragma once

#include <boost/pfr.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "hoprag/backend/buffer.hpp"
#include "hoprag/backend/ops.hpp"
#include "hoprag/core/error.hpp"
#include "hoprag/models/bert/config.hpp"
#include "hoprag/models/bert/forward.hpp"
#include "hoprag/models/bert/parameters.hpp"

namespace hoprag::models::bert {

/// What one layer's backward reads (kept per layer, or recomputed under checkpointing).
template <class Context>
struct layer_cache {
    buffer<Context, float> q, k, v;        // [T, H] projections ([b, t, head, head_dim])
    buffer<Context, float> probs;          // [heads, batch, seq, seq] attention weights
    buffer<Context, float> attn;           // [T, H] attention output (before the dense)
    buffer<Context, float> x1;             // [T, H] dense(attn) + input (pre-LayerNorm 1)
    buffer<Context, float> mean1, rstd1;   // [T] LayerNorm 1 statistics
    buffer<Context, float> a;              // [T, H] LayerNorm 1 output
    buffer<Context, float> ffn;            // [T, I] W1 a + b1 (pre-GELU)
    buffer<Context, float> ffn_act;        // [T, I] gelu(ffn)
    buffer<Context, float> x2;             // [T, H] W2 gelu + b2 + a (pre-LayerNorm 2)
    buffer<Context, float> mean2, rstd2;   // [T] LayerNorm 2 statistics
};

/// Buffers of a training pass over batches of at most max_tokens tokens and seq <= max_seq.
template <class Context>
struct train_activations {
    std::int64_t max_tokens = 0, max_seq = 0, batch = 0, seq = 0;  // planned sizes; sizes of the last forward
    bool checkpointing = false;
    buffer<Context, std::int32_t> ids, type_ids, positions;  // [T]
    buffer<Context, std::int32_t> valid;                     // [T] (first batch entries used)
    buffer<Context, std::int32_t> row_limit;                 // [T * heads] softmax limits of score rows
    buffer<Context, float> emb;                              // [T, H] word + position + type (pre-LN)
    buffer<Context, float> emb_mean, emb_rstd;               // [T]
    std::vector<buffer<Context, float>> inputs;              // [L] each [T, H]: layer inputs
    buffer<Context, float> out;                              // [T, H] final hidden states
    std::vector<layer_cache<Context>> caches;                // [L] (or [1] scratch when checkpointing)
    // backward scratch
    buffer<Context, float> dh, dtmp, dx, dq, dk, dv, dattn;  // [T, H]
    buffer<Context, float> dffn;                             // [T, I]
    buffer<Context, float> dprobs;                           // [heads, batch, seq, seq]
    dtype compute = dtype::f32;                              // GEMM inputs of the six linears, both ways
};

/// A `parameters` struct of zeros with the model's shapes (gradient buffers).
template <class Context>
parameters<Context> zero_parameters(Context& ctx, const config& c) {
    parameters<Context> p;
    const auto es = embedding_shapes(c);
    const auto numel = [](const std::vector<std::int64_t>& s) {
        std::int64_t n = 1;
        for (auto d : s) n *= d;
        return static_cast<std::size_t>(n);
    };
    boost::pfr::for_each_field(p.embeddings, [&](auto& b, std::size_t i) { b = buffer<Context, float>(ctx, std::vector<float>(numel(es[i]), 0.0f)); });
    const auto ls = layer_shapes(c);
    p.layers.resize(static_cast<std::size_t>(c.num_layers));
    for (auto& l : p.layers)
        boost::pfr::for_each_field(l, [&](auto& b, std::size_t i) { b = buffer<Context, float>(ctx, std::vector<float>(numel(ls[i]), 0.0f)); });
    return p;
}

/// Sets every buffer of `p` to zero.
template <class Context>
void zero(Context& ctx, parameters<Context>& p) {
    const auto z = [&](auto& b) { zero_fill(ctx, b.data(), static_cast<std::int64_t>(b.size())); };
    boost::pfr::for_each_field(p.embeddings, z);
    for (auto& l : p.layers) boost::pfr::for_each_field(l, z);
}

/// Bytes allocate_train_activations would take.
inline std::int64_t train_activation_bytes(const config& c, std::int64_t max_tokens, std::int64_t max_seq, bool checkpointing) {
    const std::int64_t T = max_tokens, H = c.hidden_size, I = c.intermediate_size, P = max_tokens * max_seq * c.num_heads;
    const std::int64_t cache = T * (7 * H + 2 * I + 4) + P;
    const std::int64_t layers = checkpointing ? 1 : c.num_layers;
    return 4 * (T * (4 + c.num_heads) + T * (2 * H + 2) + c.num_layers * T * H + layers * cache + 7 * T * H + T * I + P);
}

template <class Context>
layer_cache<Context> allocate_layer_cache(Context& ctx, const config& c, std::int64_t max_tokens, std::int64_t max_seq) {
    const auto T = static_cast<std::size_t>(max_tokens), H = static_cast<std::size_t>(c.hidden_size),
               I = static_cast<std::size_t>(c.intermediate_size);
    using fb = buffer<Context, float>;
    layer_cache<Context> l;
    l.q = fb(ctx, T * H), l.k = fb(ctx, T * H), l.v = fb(ctx, T * H);
    l.probs = fb(ctx, T * static_cast<std::size_t>(max_seq * c.num_heads));
    l.attn = fb(ctx, T * H), l.x1 = fb(ctx, T * H), l.a = fb(ctx, T * H), l.x2 = fb(ctx, T * H);
    l.mean1 = fb(ctx, T), l.rstd1 = fb(ctx, T), l.mean2 = fb(ctx, T), l.rstd2 = fb(ctx, T);
    l.ffn = fb(ctx, T * I), l.ffn_act = fb(ctx, T * I);
    return l;
}

/// Training buffers for batches of at most max_tokens tokens with seq <= max_seq.
template <class Context>
train_activations<Context> allocate_train_activations(Context& ctx, const config& c, std::int64_t max_tokens,
                                                      std::int64_t max_seq, bool checkpointing) {
    if (max_tokens <= 0 || max_seq <= 0 || max_seq > c.max_position_embeddings)
        throw config_error("bert train activations: need max_tokens > 0 and 0 < max_seq <= max_position_embeddings (" +
                           std::to_string(c.max_position_embeddings) + "), got max_tokens " + std::to_string(max_tokens) +
                           ", max_seq " + std::to_string(max_seq));
    const auto T = static_cast<std::size_t>(max_tokens), H = static_cast<std::size_t>(c.hidden_size),
               I = static_cast<std::size_t>(c.intermediate_size);
    using fb = buffer<Context, float>;
    using ib = buffer<Context, std::int32_t>;
    train_activations<Context> a;
    a.max_tokens = max_tokens, a.max_seq = max_seq, a.checkpointing = checkpointing;
    a.ids = ib(ctx, T), a.type_ids = ib(ctx, T), a.positions = ib(ctx, T), a.valid = ib(ctx, T);
    a.row_limit = ib(ctx, T * static_cast<std::size_t>(c.num_heads));
    a.emb = fb(ctx, T * H), a.emb_mean = fb(ctx, T), a.emb_rstd = fb(ctx, T), a.out = fb(ctx, T * H);
    for (std::int64_t l = 0; l < c.num_layers; ++l) a.inputs.emplace_back(ctx, T * H);
    const std::int64_t n_caches = checkpointing ? 1 : c.num_layers;
    for (std::int64_t l = 0; l < n_caches; ++l) a.caches.push_back(allocate_layer_cache(ctx, c, max_tokens, max_seq));
    a.dh = fb(ctx, T * H), a.dtmp = fb(ctx, T * H), a.dx = fb(ctx, T * H);
    a.dq = fb(ctx, T * H), a.dk = fb(ctx, T * H), a.dv = fb(ctx, T * H), a.dattn = fb(ctx, T * H);
    a.dffn = fb(ctx, T * I);
    a.dprobs = fb(ctx, T * static_cast<std::size_t>(max_seq * c.num_heads));
    return a;
}

namespace detail {

inline gelu_kind activation_of(const config& c) {
    if (c.hidden_act == "relu") throw config_error("bert: hidden_act relu is not implemented");
    return c.hidden_act == "gelu" ? gelu_kind::erf : gelu_kind::tanh;
}

/// dW [out, in] += dy^T [out, rows] · x [rows, in]; db [out] += sum_rows dy; dx [rows, in] (=, or
/// += when accumulate) dy [rows, out] · W [out, in]. Both products in `compute`.
template <class Context>
void linear_backward(Context& ctx, float* dx, float* dw, float* db, const float* dy, const float* x, const float* w,
                     std::int64_t rows, std::int64_t in, std::int64_t out, bool accumulate, dtype compute = dtype::f32) {
    compute_gemm(ctx, gemm_desc{.m = out, .n = in, .k = rows, .trans_a = true, .beta = 1.0f}, dy, x, dw, compute);
    sum_rows(ctx, db, dy, rows, out);
    if (dx) compute_gemm(ctx, gemm_desc{.m = rows, .n = in, .k = out, .beta = accumulate ? 1.0f : 0.0f}, dy, w, dx, compute);
}

/// Backward of attention_by_gemm: dq, dk, dv [batch, seq, heads, head_dim] written from dout and
/// the saved probs [heads, batch, seq, seq]; dprobs is scratch of the same size as probs.
template <class Context>
void attention_by_gemm_backward(Context& ctx, const attention_desc& d, float* dq, float* dk, float* dv, float* dprobs,
                                const float* dout, const float* probs, const float* q, const float* k, const float* v) {
    const std::int64_t T = d.q_len, D = d.head_dim, H = d.n_heads * D, B = d.batch;
    const float scale = 1.0f / std::sqrt(static_cast<float>(D));
    for (std::int64_t h = 0; h < d.n_heads; ++h) {
        const float* p = probs + h * B * T * T;
        float* dp = dprobs + h * B * T * T;
        // dV[b, :, h] = P^T [T, T] · dO[b, :, h] [T, D]
        gemm(ctx, gemm_desc{.m = T, .n = D, .k = T, .trans_a = true, .lda = T, .ldb = H, .ldc = H, .batch = B,
                            .stride_a = T * T, .stride_b = T * H, .stride_c = T * H},
             p, dout + h * D, dv + h * D);
        // dP = dO [T, D] · V^T
        gemm(ctx, gemm_desc{.m = T, .n = T, .k = D, .trans_b = true, .lda = H, .ldb = H, .ldc = T, .batch = B,
                            .stride_a = T * H, .stride_b = T * H, .stride_c = T * T},
             dout + h * D, v + h * D, dp);
    }
    softmax_backward(ctx, dprobs, dprobs, probs, d.n_heads * B * T, T);
    for (std::int64_t h = 0; h < d.n_heads; ++h) {
        const float* ds = dprobs + h * B * T * T;
        // dQ = scale · dS [T, T] · K [T, D];  dK = scale · dS^T · Q
        gemm(ctx, gemm_desc{.m = T, .n = D, .k = T, .lda = T, .ldb = H, .ldc = H, .batch = B, .stride_a = T * T,
                            .stride_b = T * H, .stride_c = T * H, .alpha = scale},
             ds, k + h * D, dq + h * D);
        gemm(ctx, gemm_desc{.m = T, .n = D, .k = T, .trans_a = true, .lda = T, .ldb = H, .ldc = H, .batch = B,
                            .stride_a = T * T, .stride_b = T * H, .stride_c = T * H, .alpha = scale},
             ds, q + h * D, dk + h * D);
    }
}

/// One encoder block forward from `in` to `out` [n, H], filling `lc`.
template <class Context>
void layer_forward(Context& ctx, const config& c, const layer_parameters<Context>& l, layer_cache<Context>& lc,
                   const float* in, float* out, const attention_desc& ad, const std::int32_t* row_limit, dtype compute) {
    const std::int64_t n = ad.batch * ad.q_len, H = c.hidden_size, I = c.intermediate_size;
    const auto eps = static_cast<float>(c.layer_norm_eps);
    linear(ctx, lc.q.data(), in, l.q_w.data(), l.q_b.data(), n, H, H, compute);
    linear(ctx, lc.k.data(), in, l.k_w.data(), l.k_b.data(), n, H, H, compute);
    linear(ctx, lc.v.data(), in, l.v_w.data(), l.v_b.data(), n, H, H, compute);
    attention_by_gemm(ctx, ad, lc.attn.data(), lc.probs.data(), lc.q.data(), lc.k.data(), lc.v.data(), row_limit);
    linear(ctx, lc.x1.data(), lc.attn.data(), l.attn_out_w.data(), l.attn_out_b.data(), n, H, H, compute);
    add(ctx, lc.x1.data(), lc.x1.data(), in, n * H);
    layernorm_forward(ctx, lc.a.data(), lc.mean1.data(), lc.rstd1.data(), lc.x1.data(), l.attn_ln_w.data(),
                      l.attn_ln_b.data(), n, H, eps);
    linear(ctx, lc.ffn.data(), lc.a.data(), l.ffn_in_w.data(), l.ffn_in_b.data(), n, H, I, compute);
    gelu_forward(ctx, lc.ffn_act.data(), lc.ffn.data(), n * I, activation_of(c));
    linear(ctx, lc.x2.data(), lc.ffn_act.data(), l.ffn_out_w.data(), l.ffn_out_b.data(), n, I, H, compute);
    add(ctx, lc.x2.data(), lc.x2.data(), lc.a.data(), n * H);
    layernorm_forward(ctx, out, lc.mean2.data(), lc.rstd2.data(), lc.x2.data(), l.ffn_ln_w.data(), l.ffn_ln_b.data(), n,
                      H, eps);
}

}  // namespace detail

/// Training forward of `batch` padded sequences of length `seq` (host ids, type_ids [batch * seq],
/// valid [batch]); the final hidden states [batch * seq, H] are left in a.out. Same function as
/// forward() of forward.hpp before pooling.
template <class Context>
void forward_train(Context& ctx, const config& c, const parameters<Context>& p, train_activations<Context>& a,
                   const std::int32_t* ids, const std::int32_t* type_ids, const std::int32_t* valid,
                   std::int64_t batch, std::int64_t seq) {
    const std::int64_t n = batch * seq, H = c.hidden_size;
    if (batch <= 0 || seq <= 0 || n > a.max_tokens || seq > a.max_seq)
        throw shape_error("bert forward_train: batch " + std::to_string(batch) + " x seq " + std::to_string(seq) +
                          " exceeds the planned activations (max_tokens " + std::to_string(a.max_tokens) +
                          ", max_seq " + std::to_string(a.max_seq) + ")");
    a.batch = batch, a.seq = seq;
    std::vector<std::int32_t> pos(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) pos[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(i % seq);
    std::vector<std::int32_t> limit(static_cast<std::size_t>(n * c.num_heads));
    for (std::size_t r = 0; r < limit.size(); ++r)
        limit[r] = valid[(r / static_cast<std::size_t>(seq)) % static_cast<std::size_t>(batch)];
    upload(ctx, a.ids.data(), ids, static_cast<std::size_t>(n) * 4);
    upload(ctx, a.type_ids.data(), type_ids, static_cast<std::size_t>(n) * 4);
    upload(ctx, a.positions.data(), pos.data(), static_cast<std::size_t>(n) * 4);
    upload(ctx, a.valid.data(), valid, static_cast<std::size_t>(batch) * 4);
    upload(ctx, a.row_limit.data(), limit.data(), limit.size() * 4);

    const auto& e = p.embeddings;
    float* tmp = a.dtmp.data();  // free during the forward
    embedding_forward(ctx, a.emb.data(), a.ids.data(), e.word.data(), n, H, c.vocab_size);
    embedding_forward(ctx, tmp, a.positions.data(), e.position.data(), n, H, c.max_position_embeddings);
    add(ctx, a.emb.data(), a.emb.data(), tmp, n * H);
    embedding_forward(ctx, tmp, a.type_ids.data(), e.token_type.data(), n, H, c.type_vocab_size);
    add(ctx, a.emb.data(), a.emb.data(), tmp, n * H);
    const auto L = static_cast<std::size_t>(c.num_layers);
    float* first = L ? a.inputs[0].data() : a.out.data();
    layernorm_forward(ctx, first, a.emb_mean.data(), a.emb_rstd.data(), a.emb.data(), e.ln_w.data(), e.ln_b.data(), n, H,
                      static_cast<float>(c.layer_norm_eps));
    const attention_desc ad{.batch = batch, .q_len = seq, .kv_len = seq, .n_heads = c.num_heads,
                            .n_kv_heads = c.num_heads, .head_dim = c.head_dim()};
    for (std::size_t l = 0; l < L; ++l) {
        auto& lc = a.caches[a.checkpointing ? 0 : l];
        float* out = l + 1 < L ? a.inputs[l + 1].data() : a.out.data();
        detail::layer_forward(ctx, c, p.layers[l], lc, a.inputs[l].data(), out, ad, a.row_limit.data(), a.compute);
    }
}

/// Backward of the last forward_train: `dout` [batch * seq, H] is d loss / d a.out (backend
/// memory; consumed as scratch); accumulates every parameter gradient into `g`.
template <class Context>
void backward(Context& ctx, const config& c, const parameters<Context>& p, train_activations<Context>& a,
              parameters<Context>& g, float* dout) {
    const std::int64_t batch = a.batch, seq = a.seq, n = batch * seq, H = c.hidden_size, I = c.intermediate_size;
    const attention_desc ad{.batch = batch, .q_len = seq, .kv_len = seq, .n_heads = c.num_heads,
                            .n_kv_heads = c.num_heads, .head_dim = c.head_dim()};
    const gelu_kind act = detail::activation_of(c);
    float* dh = dout;  // gradient of a layer's output, overwritten by the gradient of its input
    for (std::size_t li = static_cast<std::size_t>(c.num_layers); li-- > 0;) {
        const auto& l = p.layers[li];
        auto& gl = g.layers[li];
        auto& lc = a.caches[a.checkpointing ? 0 : li];
        const float* in = a.inputs[li].data();
        if (a.checkpointing)  // recompute this layer's intermediates; its output is not needed
            detail::layer_forward(ctx, c, l, lc, in, a.dx.data(), ad, a.row_limit.data(), a.compute);
        float* dx2 = a.dtmp.data();
        layernorm_backward(ctx, dx2, gl.ffn_ln_w.data(), gl.ffn_ln_b.data(), dh, lc.x2.data(), l.ffn_ln_w.data(),
                           lc.mean2.data(), lc.rstd2.data(), n, H);
        // x2 = W2 gelu(ffn) + b2 + a
        detail::linear_backward(ctx, a.dffn.data(), gl.ffn_out_w.data(), gl.ffn_out_b.data(), dx2, lc.ffn_act.data(),
                                l.ffn_out_w.data(), n, I, H, false, a.compute);
        gelu_backward(ctx, a.dffn.data(), a.dffn.data(), lc.ffn.data(), n * I, act);
        float* da = dx2;  // residual: da = dx2 + dffn · W1
        detail::linear_backward(ctx, da, gl.ffn_in_w.data(), gl.ffn_in_b.data(), a.dffn.data(), lc.a.data(),
                                l.ffn_in_w.data(), n, H, I, true, a.compute);
        float* dx1 = a.dx.data();
        layernorm_backward(ctx, dx1, gl.attn_ln_w.data(), gl.attn_ln_b.data(), da, lc.x1.data(), l.attn_ln_w.data(),
                           lc.mean1.data(), lc.rstd1.data(), n, H);
        // x1 = Wo attn + bo + in
        detail::linear_backward(ctx, a.dattn.data(), gl.attn_out_w.data(), gl.attn_out_b.data(), dx1, lc.attn.data(),
                                l.attn_out_w.data(), n, H, H, false, a.compute);
        detail::attention_by_gemm_backward(ctx, ad, a.dq.data(), a.dk.data(), a.dv.data(), a.dprobs.data(),
                                           a.dattn.data(), lc.probs.data(), lc.q.data(), lc.k.data(), lc.v.data());
        float* din = dh;  // dh is no longer needed: din = dx1 (residual) + dq Wq + dk Wk + dv Wv
        detail::linear_backward(ctx, din, gl.q_w.data(), gl.q_b.data(), a.dq.data(), in, l.q_w.data(), n, H, H, false, a.compute);
        add(ctx, din, din, dx1, n * H);
        detail::linear_backward(ctx, din, gl.k_w.data(), gl.k_b.data(), a.dk.data(), in, l.k_w.data(), n, H, H, true, a.compute);
        detail::linear_backward(ctx, din, gl.v_w.data(), gl.v_b.data(), a.dv.data(), in, l.v_w.data(), n, H, H, true, a.compute);
    }
    // embeddings: h0 = LN(word[ids] + position[t] + type[type_ids])
    const auto& e = p.embeddings;
    auto& ge = g.embeddings;
    float* demb = a.dtmp.data();
    layernorm_backward(ctx, demb, ge.ln_w.data(), ge.ln_b.data(), dh, a.emb.data(), e.ln_w.data(), a.emb_mean.data(),
                       a.emb_rstd.data(), n, H);
    embedding_backward(ctx, ge.word.data(), a.ids.data(), demb, n, H, c.vocab_size);
    embedding_backward(ctx, ge.position.data(), a.positions.data(), demb, n, H, c.max_position_embeddings);
    embedding_backward(ctx, ge.token_type.data(), a.type_ids.data(), demb, n, H, c.type_vocab_size);
}

}  // namespace hoprag::models::bert
