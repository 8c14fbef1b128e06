// Causal grouped-query attention of the training forward and backward, on GEMMs: per (batch item,
// query head) the scores S = scale * Q K^T [seq, seq] and the output P V, the softmax over each row's
// causal prefix (softmax_forward with row limits), and in backward dP = dO V^T, dS = softmax'(dP),
// dQ = scale dS K, dK += scale dS^T Q, dV += P^T dO (summed over the query heads of a KV group).
// Same layouts and results as the backend's attention_forward / attention_backward (probs
// [batch, heads, seq, seq], 0 above the diagonal) but at GEMM speed: the row kernels recompute dot
// products per row, and attention was the largest non-GEMM cost of a SmolLM2 training step.
// A sliding window shorter than the sequence is not a prefix mask: callers use the backend ops then
// (see `gemm_attention_applies`).
#pragma once

#include <cstdint>

#include "hoprag/backend/ops.hpp"
#include "hoprag/kernels/attention.hpp"

namespace hoprag::models::llama {

/// True when d (self-attention, q_len == kv_len, causal) has prefix masks only, so the GEMM path applies.
inline bool gemm_attention_applies(const attention_desc& d) {
    return d.causal && d.q_len == d.kv_len && d.kv_valid == nullptr && (d.window == 0 || d.window >= d.kv_len);
}

/// Row limits [batch * heads * seq] of the causal softmax: row i of every (b, h) sees keys [0, i].
inline void causal_row_limits(std::int32_t* host, const attention_desc& d) {
    for (std::int64_t r = 0; r < d.batch * d.n_heads * d.q_len; ++r) host[r] = static_cast<std::int32_t>(r % d.q_len + 1);
}

/// Forward: out [batch, seq, heads, D] and probs [batch, heads, seq, seq] from q, k, v (layouts of
/// attention_desc). `row_limit` [batch * heads * seq] from causal_row_limits, in backend memory.
template <class Context>
void gemm_attention_forward(Context& ctx, const attention_desc& d, float* out, float* probs, const float* q, const float* k,
                            const float* v, const std::int32_t* row_limit) {
    kernels::validate(d, "gemm_attention_forward");
    const std::int64_t S = d.q_len, D = d.head_dim, nh = d.n_heads, nkv = d.n_kv_heads, group = nh / nkv;
    for (std::int64_t b = 0; b < d.batch; ++b)
        for (std::int64_t h = 0; h < nh; ++h) {
            const std::int64_t g = h / group;
            float* p = probs + (b * nh + h) * S * S;
            gemm_desc sd;  // P [S, S] = scale * Q_h K_g^T
            sd.m = S, sd.n = S, sd.k = D, sd.trans_b = true, sd.lda = nh * D, sd.ldb = nkv * D, sd.alpha = kernels::attention_scale(d);
            gemm(ctx, packed(sd), q + (b * S * nh + h) * D, k + (b * S * nkv + g) * D, p);
        }
    softmax_forward(ctx, probs, probs, d.batch * nh * S, S, row_limit);
    for (std::int64_t b = 0; b < d.batch; ++b)
        for (std::int64_t h = 0; h < nh; ++h) {
            gemm_desc od;  // O_h [S, D] = P V_g
            od.m = S, od.n = D, od.k = S, od.ldb = nkv * D, od.ldc = nh * D;
            gemm(ctx, packed(od), probs + (b * nh + h) * S * S, v + (b * S * nkv + h / group) * D, out + (b * S * nh + h) * D);
        }
}

/// Backward: writes dq, dk, dv (layouts of q, k, v) from dout and the probs of the forward.
/// `dprobs` is scratch of the size of probs.
template <class Context>
void gemm_attention_backward(Context& ctx, const attention_desc& d, float* dq, float* dk, float* dv, float* dprobs, const float* dout,
                             const float* q, const float* k, const float* v, const float* probs) {
    kernels::validate(d, "gemm_attention_backward");
    const std::int64_t S = d.q_len, D = d.head_dim, nh = d.n_heads, nkv = d.n_kv_heads, group = nh / nkv;
    const float scale = kernels::attention_scale(d);
    for (std::int64_t b = 0; b < d.batch; ++b)
        for (std::int64_t h = 0; h < nh; ++h) {
            gemm_desc pd;  // dP [S, S] = dO_h V_g^T
            pd.m = S, pd.n = S, pd.k = D, pd.trans_b = true, pd.lda = nh * D, pd.ldb = nkv * D;
            gemm(ctx, packed(pd), dout + (b * S * nh + h) * D, v + (b * S * nkv + h / group) * D, dprobs + (b * nh + h) * S * S);
        }
    softmax_backward(ctx, dprobs, dprobs, probs, d.batch * nh * S, S);  // dS, 0 where masked
    for (std::int64_t b = 0; b < d.batch; ++b)
        for (std::int64_t h = 0; h < nh; ++h) {
            const std::int64_t g = h / group;
            const float* ds = dprobs + (b * nh + h) * S * S;
            const float* p = probs + (b * nh + h) * S * S;
            const float beta = h % group == 0 ? 0.0f : 1.0f;  // first head of a group writes, the rest add
            gemm_desc qd;  // dQ_h [S, D] = scale dS K_g
            qd.m = S, qd.n = D, qd.k = S, qd.ldb = nkv * D, qd.ldc = nh * D, qd.alpha = scale;
            gemm(ctx, packed(qd), ds, k + (b * S * nkv + g) * D, dq + (b * S * nh + h) * D);
            gemm_desc kd;  // dK_g [S, D] (+)= scale dS^T Q_h
            kd.m = S, kd.n = D, kd.k = S, kd.trans_a = true, kd.ldb = nh * D, kd.ldc = nkv * D, kd.alpha = scale, kd.beta = beta;
            gemm(ctx, packed(kd), ds, q + (b * S * nh + h) * D, dk + (b * S * nkv + g) * D);
            gemm_desc vd;  // dV_g [S, D] (+)= P^T dO_h
            vd.m = S, vd.n = D, vd.k = S, vd.trans_a = true, vd.ldb = nh * D, vd.ldc = nkv * D, vd.beta = beta;
            gemm(ctx, packed(vd), p, dout + (b * S * nh + h) * D, dv + (b * S * nkv + g) * D);
        }
}

}  // namespace hoprag::models::llama
