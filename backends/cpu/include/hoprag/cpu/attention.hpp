// CPU scaled-dot-product attention, forward and backward, with the layouts and masks of
// hoprag::attention_desc (GQA, causal with KV-cache offset, sliding window, padding). Forward and
// dq run in parallel over (batch, head, query) rows; dk and dv over (batch, kv head, key) rows, each
// summing its own contributions, so no two threads write the same element and results are
// deterministic for any thread count.
#pragma once

#include <cstdint>
#include <vector>

#include "hoprag/backend/ops.hpp"
#include "hoprag/cpu/context.hpp"
#include "hoprag/cpu/parallel.hpp"
#include "hoprag/kernels/attention.hpp"

namespace hoprag::cpu {

/// out [batch, q_len, n_heads, head_dim] = softmax(scale * q k^T, masked) v; probs
/// [batch, n_heads, q_len, kv_len] receives the attention weights (0 where masked) for backward.
inline void attention_forward(context&, const attention_desc& d, float* out, float* probs, const float* q, const float* k,
                              const float* v) {
    kernels::validate(d, "attention_forward");
    const std::int64_t rows = d.batch * d.n_heads * d.q_len;
    parallel_rows(rows, [&](std::int64_t r) {
        const std::int64_t i = r % d.q_len, h = (r / d.q_len) % d.n_heads, b = r / (d.q_len * d.n_heads);
        kernels::attention_row_forward(d, b, h, i, out, probs, q, k, v);
    });
}

/// Writes dq (layout of q) and dk, dv (layout of k, v; summed over the query heads sharing a kv
/// head) from dout (layout of out) and the probs saved by attention_forward.
inline void attention_backward(context&, const attention_desc& d, float* dq, float* dk, float* dv, const float* dout,
                               const float* q, const float* k, const float* v, const float* probs) {
    kernels::validate(d, "attention_backward");
    const std::int64_t rows = d.batch * d.n_heads * d.q_len;
    std::vector<float> delta(static_cast<std::size_t>(rows));
    float* dl = delta.data();
    parallel_rows(rows, [&](std::int64_t r) {
        const std::int64_t i = r % d.q_len, h = (r / d.q_len) % d.n_heads, b = r / (d.q_len * d.n_heads);
        dl[r] = kernels::attention_row_backward_query(d, b, h, i, dq, dout, k, v, probs);
    });
    const std::int64_t key_rows = d.batch * d.n_kv_heads * d.kv_len;
    parallel_rows(key_rows, [&](std::int64_t r) {
        const std::int64_t kvh = r % d.n_kv_heads, j = (r / d.n_kv_heads) % d.kv_len, b = r / (d.n_kv_heads * d.kv_len);
        kernels::attention_key_backward(d, b, kvh, j, dk, dv, dout, q, v, probs, dl);
    });
}

}  // namespace hoprag::cpu
