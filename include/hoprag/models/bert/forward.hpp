// BERT encoder forward over the backend op set (llm.c style: plain functions over planned buffers).
// `activations` holds every intermediate of one padded batch [batch, seq] and is sized up front
// for a token budget (batch * seq <= max_tokens, seq <= max_seq), so a forward never allocates;
// keeping each layer's buffers separate leaves room for the backward the reranker adds later.
//   embeddings:  h0 = LN(word[ids] + position[t] + token_type[type_ids])
//   layer (post-LN): a = LN(h + Wo·attn(Wq h, Wk h, Wv h; padding mask) + bo)
//                    h' = LN(a + W2·gelu(W1 a + b1) + b2)
// Padding positions are computed like real ones (finite values) but no real token attends to them
// (attention_desc.kv_valid) and pooling skips them.
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <string>
#include <vector>

#include "hoprag/backend/buffer.hpp"
#include "hoprag/backend/compute_gemm.hpp"
#include "hoprag/backend/ops.hpp"
#include "hoprag/core/error.hpp"
#include "hoprag/kernels/pooling.hpp"
#include "hoprag/models/bert/config.hpp"
#include "hoprag/models/bert/parameters.hpp"

namespace hoprag::models::bert {

/// The ops the BERT forward needs from a backend context (found by argument-dependent lookup).
template <class Context>
concept encoder_context = requires(Context& c, float* o, const float* x, const std::int32_t* ids, std::int64_t n,
                                   float s, const gemm_desc& g, const attention_desc& a) {
    gemm(c, g, x, x, o);
    add(c, o, x, x, n);
    layernorm_forward(c, o, o, o, x, x, x, n, n, s);
    gelu_forward(c, o, x, n, gelu_kind::erf);
    attention_forward(c, a, o, o, x, x, x);
    softmax_forward(c, o, x, n, n, ids);
    embedding_forward(c, o, ids, x, n, n, n);
    sequence_pool(c, o, x, ids, n, n, n, kernels::pooling_kind::mean, true);
    upload(c, o, x, std::size_t{1});
    download(c, o, x, std::size_t{1});
};

/// Optional fused ops a backend may offer (the CPU does): with them the forward adds the FFN bias
/// inside the GELU pass and the dense bias and residual inside the LayerNorm pass instead of extra
/// passes over memory. The activations hold the same values either way.
template <class Context>
concept fused_encoder_context = requires(Context& c, float* o, const float* x, std::int64_t n, float s) {
    bias_gelu_forward(c, o, o, x, n, n, gelu_kind::erf);
    residual_layernorm_forward(c, o, o, o, o, x, x, x, x, n, n, s);
};

/// How self-attention runs: `gemm` = per-head strided batched GEMMs for the scores and the
/// weighted values with a masked row softmax in between (fast: the GEMMs use BLAS/cuBLASLt);
/// `fused` = the backend's attention_forward op with attention_desc.kv_valid (one row body).
/// Both compute the same function; tests check they agree.
enum class attention_path { gemm, fused };

/// Buffers of one padded batch; every [tokens, .] buffer holds max_tokens rows.
template <class Context>
struct activations {
    std::int64_t max_tokens = 0, max_seq = 0;
    buffer<Context, std::int32_t> ids;        // [max_tokens] word-piece ids
    buffer<Context, std::int32_t> type_ids;   // [max_tokens] token types
    buffer<Context, std::int32_t> positions;  // [max_tokens] 0..seq-1 per sequence
    buffer<Context, std::int32_t> valid;      // [max_tokens] real tokens per sequence (first batch entries)
    buffer<Context, std::int32_t> row_limit;  // [max_tokens * heads] softmax limit per score row (gemm path)
    buffer<Context, float> emb;               // [max_tokens, H] word embedding, then the sum
    buffer<Context, float> emb2;              // [max_tokens, H] position / token-type embedding
    buffer<Context, float> h;                 // [max_tokens, H] layer input / output
    buffer<Context, float> q, k, v;           // [max_tokens, H] projections ([b, t, head, head_dim])
    buffer<Context, float> attn;              // [max_tokens, H] attention output
    buffer<Context, float> probs;             // [max_tokens * max_seq * heads] attention weights
    buffer<Context, float> proj;              // [max_tokens, H] dense output (+ residual in place)
    buffer<Context, float> a;                 // [max_tokens, H] post-attention LayerNorm
    buffer<Context, float> ffn;               // [max_tokens, I] W1 a + b1
    buffer<Context, float> ffn_act;           // [max_tokens, I] gelu(ffn)
    buffer<Context, float> mean, rstd;        // [max_tokens] LayerNorm statistics
    buffer<Context, float> pooled;            // [max_tokens, H] pooled vectors (first batch rows)
    dtype compute = dtype::f32;               // GEMM inputs of the six linears (backend/compute_gemm.hpp)
};

/// Activations for batches of at most max_tokens tokens (batch * seq) and seq <= max_seq.
template <class Context>
activations<Context> allocate_activations(Context& ctx, const config& c, std::int64_t max_tokens,
                                          std::int64_t max_seq) {
    if (max_tokens <= 0 || max_seq <= 0 || max_seq > c.max_position_embeddings)
        throw config_error("bert activations: need max_tokens > 0 and 0 < max_seq <= max_position_embeddings (" +
                           std::to_string(c.max_position_embeddings) + "), got max_tokens " +
                           std::to_string(max_tokens) + ", max_seq " + std::to_string(max_seq));
    const auto T = static_cast<std::size_t>(max_tokens);
    const auto H = static_cast<std::size_t>(c.hidden_size), I = static_cast<std::size_t>(c.intermediate_size);
    using fb = buffer<Context, float>;
    using ib = buffer<Context, std::int32_t>;
    activations<Context> a;
    a.max_tokens = max_tokens;
    a.max_seq = max_seq;
    a.ids = ib(ctx, T), a.type_ids = ib(ctx, T), a.positions = ib(ctx, T), a.valid = ib(ctx, T);
    a.row_limit = ib(ctx, T * static_cast<std::size_t>(c.num_heads));
    a.emb = fb(ctx, T * H), a.emb2 = fb(ctx, T * H), a.h = fb(ctx, T * H);
    a.q = fb(ctx, T * H), a.k = fb(ctx, T * H), a.v = fb(ctx, T * H), a.attn = fb(ctx, T * H);
    a.probs = fb(ctx, T * static_cast<std::size_t>(max_seq * c.num_heads));
    a.proj = fb(ctx, T * H), a.a = fb(ctx, T * H);
    a.ffn = fb(ctx, T * I), a.ffn_act = fb(ctx, T * I);
    a.mean = fb(ctx, T), a.rstd = fb(ctx, T), a.pooled = fb(ctx, T * H);
    return a;
}

/// Bytes allocate_activations would take (to plan a token budget before allocating).
inline std::int64_t activation_bytes(const config& c, std::int64_t max_tokens, std::int64_t max_seq) {
    const std::int64_t H = c.hidden_size, I = c.intermediate_size;
    return 4 * max_tokens * (4 + c.num_heads + 10 * H + 2 * I + 2 + max_seq * c.num_heads);
}

namespace detail {
/// y [rows, out] = x [rows, in] · W^T + b, W stored [out, in]; products in `compute`.
template <class Context>
void linear(Context& ctx, float* y, const float* x, const float* w, const float* b, std::int64_t rows,
            std::int64_t in, std::int64_t out, dtype compute = dtype::f32) {
    compute_gemm(ctx, gemm_desc{.m = rows, .n = out, .k = in, .trans_b = true, .bias = b}, x, w, y, compute);
}

/// Self-attention by GEMMs: for each head h, scores[h, b] = scale · Q[b, :, h] K[b, :, h]^T
/// ([seq, seq], one strided batched GEMM over b), a row softmax limited to the valid keys of each
/// sequence, then out[b, :, h] = P[h, b] V[b, :, h]. q, k, v, out: [batch, seq, heads, head_dim];
/// scores: [heads, batch, seq, seq]; row_limit: [heads * batch * seq] (device).
template <class Context>
void attention_by_gemm(Context& ctx, const attention_desc& d, float* out, float* scores, const float* q, const float* k,
                       const float* v, const std::int32_t* row_limit) {
    const std::int64_t T = d.q_len, D = d.head_dim, H = d.n_heads * D, B = d.batch;
    const float scale = 1.0f / std::sqrt(static_cast<float>(D));
    for (std::int64_t h = 0; h < d.n_heads; ++h) {
        float* s = scores + h * B * T * T;
        gemm_desc sd{.m = T, .n = T, .k = D, .trans_b = true, .lda = H, .ldb = H, .ldc = T, .batch = B,
                     .stride_a = T * H, .stride_b = T * H, .stride_c = T * T, .alpha = scale};
        gemm(ctx, sd, q + h * D, k + h * D, s);
    }
    softmax_forward(ctx, scores, scores, d.n_heads * B * T, T, row_limit);
    for (std::int64_t h = 0; h < d.n_heads; ++h) {
        gemm_desc od{.m = T, .n = D, .k = T, .lda = T, .ldb = H, .ldc = H, .batch = B,
                     .stride_a = T * T, .stride_b = T * H, .stride_c = T * H};
        gemm(ctx, od, scores + h * B * T * T, v + h * D, out + h * D);
    }
}
}  // namespace detail

/// Forward of `batch` padded sequences of length `seq`: ids, type_ids [batch * seq] and valid
/// [batch] are host arrays (uploaded here); the pooled vectors [batch, H] are left in a.pooled.
/// Requires batch * seq <= a.max_tokens and seq <= a.max_seq.
template <class Context>
void forward(Context& ctx, const config& c, const parameters<Context>& p, activations<Context>& a,
             const std::int32_t* ids, const std::int32_t* type_ids, const std::int32_t* valid, std::int64_t batch,
             std::int64_t seq, kernels::pooling_kind pooling, bool normalize,
             attention_path path = attention_path::gemm) {
    static_assert(encoder_context<Context>, "the BERT forward needs gemm, add, layernorm_forward, gelu_forward, "
                                            "attention_forward, softmax_forward, embedding_forward, sequence_pool, upload and download "
                                            "for this context type");
    const std::int64_t n = batch * seq, H = c.hidden_size, I = c.intermediate_size;
    if (batch <= 0 || seq <= 0 || n > a.max_tokens || seq > a.max_seq)
        throw shape_error("bert forward: batch " + std::to_string(batch) + " x seq " + std::to_string(seq) +
                          " exceeds the planned activations (max_tokens " + std::to_string(a.max_tokens) +
                          ", max_seq " + std::to_string(a.max_seq) + ")");
    if (c.hidden_act == "relu") throw config_error("bert forward: hidden_act relu is not implemented");
    const gelu_kind act = c.hidden_act == "gelu" ? gelu_kind::erf : gelu_kind::tanh;
    const auto eps = static_cast<float>(c.layer_norm_eps);
    std::vector<std::int32_t> pos(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) pos[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(i % seq);
    upload(ctx, a.ids.data(), ids, static_cast<std::size_t>(n) * 4);
    upload(ctx, a.type_ids.data(), type_ids, static_cast<std::size_t>(n) * 4);
    upload(ctx, a.positions.data(), pos.data(), static_cast<std::size_t>(n) * 4);
    upload(ctx, a.valid.data(), valid, static_cast<std::size_t>(batch) * 4);
    if (path == attention_path::gemm) {
        std::vector<std::int32_t> limit(static_cast<std::size_t>(n * c.num_heads));
        for (std::size_t r = 0; r < limit.size(); ++r) limit[r] = valid[(r / static_cast<std::size_t>(seq)) % static_cast<std::size_t>(batch)];
        upload(ctx, a.row_limit.data(), limit.data(), limit.size() * 4);
    }

    // embeddings
    const auto& e = p.embeddings;
    embedding_forward(ctx, a.emb.data(), a.ids.data(), e.word.data(), n, H, c.vocab_size);
    embedding_forward(ctx, a.emb2.data(), a.positions.data(), e.position.data(), n, H, c.max_position_embeddings);
    add(ctx, a.emb.data(), a.emb.data(), a.emb2.data(), n * H);
    embedding_forward(ctx, a.emb2.data(), a.type_ids.data(), e.token_type.data(), n, H, c.type_vocab_size);
    add(ctx, a.emb.data(), a.emb.data(), a.emb2.data(), n * H);
    layernorm_forward(ctx, a.h.data(), a.mean.data(), a.rstd.data(), a.emb.data(), e.ln_w.data(), e.ln_b.data(), n, H,
                      eps);

    attention_desc ad{.batch = batch, .q_len = seq, .kv_len = seq, .n_heads = c.num_heads,
                      .n_kv_heads = c.num_heads, .head_dim = c.head_dim(), .kv_valid = a.valid.data()};
    for (const auto& l : p.layers) {
        detail::linear(ctx, a.q.data(), a.h.data(), l.q_w.data(), l.q_b.data(), n, H, H, a.compute);
        detail::linear(ctx, a.k.data(), a.h.data(), l.k_w.data(), l.k_b.data(), n, H, H, a.compute);
        detail::linear(ctx, a.v.data(), a.h.data(), l.v_w.data(), l.v_b.data(), n, H, H, a.compute);
        if (path == attention_path::gemm)
            detail::attention_by_gemm(ctx, ad, a.attn.data(), a.probs.data(), a.q.data(), a.k.data(), a.v.data(),
                                      a.row_limit.data());
        else
            attention_forward(ctx, ad, a.attn.data(), a.probs.data(), a.q.data(), a.k.data(), a.v.data());
        if constexpr (fused_encoder_context<Context>) {
            // proj = (W_o attn + b_o) + h, a = LN(proj); ffn = W1 a + b1, ffn_act = gelu(ffn);
            // proj = (W2 ffn_act + b2) + a, h = LN(proj): the same values as below, fewer passes
            detail::linear(ctx, a.proj.data(), a.attn.data(), l.attn_out_w.data(), l.attn_out_b.data(), n, H, H, a.compute);
            residual_layernorm_forward(ctx, a.a.data(), a.mean.data(), a.rstd.data(), a.proj.data(), a.h.data(),
                                       nullptr, l.attn_ln_w.data(), l.attn_ln_b.data(), n, H, eps);
            detail::linear(ctx, a.ffn.data(), a.a.data(), l.ffn_in_w.data(), nullptr, n, H, I, a.compute);
            bias_gelu_forward(ctx, a.ffn_act.data(), a.ffn.data(), l.ffn_in_b.data(), n, I, act);
            detail::linear(ctx, a.proj.data(), a.ffn_act.data(), l.ffn_out_w.data(), nullptr, n, I, H, a.compute);
            residual_layernorm_forward(ctx, a.h.data(), a.mean.data(), a.rstd.data(), a.proj.data(), a.a.data(),
                                       l.ffn_out_b.data(), l.ffn_ln_w.data(), l.ffn_ln_b.data(), n, H, eps);
            continue;
        }
        detail::linear(ctx, a.proj.data(), a.attn.data(), l.attn_out_w.data(), l.attn_out_b.data(), n, H, H, a.compute);
        add(ctx, a.proj.data(), a.proj.data(), a.h.data(), n * H);
        layernorm_forward(ctx, a.a.data(), a.mean.data(), a.rstd.data(), a.proj.data(), l.attn_ln_w.data(),
                          l.attn_ln_b.data(), n, H, eps);
        detail::linear(ctx, a.ffn.data(), a.a.data(), l.ffn_in_w.data(), l.ffn_in_b.data(), n, H, I, a.compute);
        gelu_forward(ctx, a.ffn_act.data(), a.ffn.data(), n * I, act);
        detail::linear(ctx, a.proj.data(), a.ffn_act.data(), l.ffn_out_w.data(), l.ffn_out_b.data(), n, I, H, a.compute);
        add(ctx, a.proj.data(), a.proj.data(), a.a.data(), n * H);
        layernorm_forward(ctx, a.h.data(), a.mean.data(), a.rstd.data(), a.proj.data(), l.ffn_ln_w.data(),
                          l.ffn_ln_b.data(), n, H, eps);
    }
    sequence_pool(ctx, a.pooled.data(), a.h.data(), a.valid.data(), batch, seq, H, pooling, normalize);
}

}  // namespace hoprag::models::bert
