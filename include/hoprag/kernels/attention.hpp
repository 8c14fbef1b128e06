// Scaled-dot-product attention kernel bodies shared by the CPU and CUDA backends (DESIGN rule 2).
// Layouts and masking rules are those of hoprag::attention_desc (backend/ops.hpp). Every function
// here handles one unit of independent work and writes only its own outputs, so both backends run
// them in parallel without atomics and get deterministic results:
//   forward            one (batch, head, query) row: scores, softmax, probs row and output row;
//   backward_query     one (batch, head, query) row: dq and delta = sum_j p_j * dp_j;
//   backward_key       one (batch, kv head, key) row: dk and dv, summed over the query heads of the
//                      group (GQA) and over every query that sees the key.
// Backward therefore runs in two passes, with delta [batch, n_heads, q_len] as scratch in between.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>

#include "hoprag/backend/ops.hpp"
#include "hoprag/core/config.hpp"
#include "hoprag/core/error.hpp"
#include "hoprag/kernels/math.hpp"
#include "hoprag/kernels/softmax.hpp"

namespace hoprag::kernels {

/// Keys [lo, hi) that query i of batch item b may see (hi <= lo: none).
struct key_span {
    std::int64_t lo = 0, hi = 0;
};

HOPRAG_INLINE key_span attention_keys(const attention_desc& d, std::int64_t b, std::int64_t i) {
    key_span s{0, d.kv_len};
    if (d.kv_valid) {
        const std::int64_t valid = d.kv_valid[b];
        if (valid < s.hi) s.hi = valid < 0 ? 0 : valid;
    }
    const std::int64_t diag = i + d.kv_len - d.q_len;  // last key a causal query may see
    if (d.causal && diag + 1 < s.hi) s.hi = diag + 1;
    if (d.window > 0 && diag - d.window + 1 > s.lo) s.lo = diag - d.window + 1;
    return s;
}

/// The score scale: d.scale, or 1 / sqrt(head_dim) when it is 0.
HOPRAG_INLINE float attention_scale(const attention_desc& d) {
    return d.scale != 0.0f ? d.scale : 1.0f / sqrtf(static_cast<float>(d.head_dim));
}

/// Throws shape_error unless the descriptor's sizes are usable (host only; kv_valid is not read).
inline void validate(const attention_desc& d, const char* op) {
    auto fail = [&](const std::string& what) { throw shape_error(std::string(op) + ": " + what); };
    if (d.batch < 0 || d.q_len < 0 || d.kv_len < 0)
        fail("batch, q_len and kv_len must be >= 0, found " + std::to_string(d.batch) + ", " + std::to_string(d.q_len) +
             ", " + std::to_string(d.kv_len));
    if (d.head_dim <= 0) fail("head_dim must be > 0, found " + std::to_string(d.head_dim));
    if (d.n_heads <= 0 || d.n_kv_heads <= 0 || d.n_heads % d.n_kv_heads != 0)
        fail("n_heads must be a positive multiple of n_kv_heads, found n_heads " + std::to_string(d.n_heads) +
             ", n_kv_heads " + std::to_string(d.n_kv_heads));
    if (d.window < 0) fail("window must be >= 0, found " + std::to_string(d.window));
}

/// Forward of query row (b, h, i): probs[b, h, i, :] and out[b, i, h, :].
HOPRAG_INLINE void attention_row_forward(const attention_desc& d, std::int64_t b, std::int64_t h, std::int64_t i, float* out,
                                         float* probs, const float* q, const float* k, const float* v) {
    const std::int64_t D = d.head_dim, kvh = h / (d.n_heads / d.n_kv_heads);
    const std::int64_t kv_stride = d.n_kv_heads * D;
    const float* qr = q + ((b * d.q_len + i) * d.n_heads + h) * D;
    const float* kb = k + (b * d.kv_len * d.n_kv_heads + kvh) * D;
    const float* vb = v + (b * d.kv_len * d.n_kv_heads + kvh) * D;
    float* p = probs + ((b * d.n_heads + h) * d.q_len + i) * d.kv_len;
    float* o = out + ((b * d.q_len + i) * d.n_heads + h) * D;
    const key_span s = attention_keys(d, b, i);
    const float scale = attention_scale(d);
    for (std::int64_t j = s.lo; j < s.hi; ++j) {
        const float* kr = kb + j * kv_stride;
        float dot = 0.0f;
        HOPRAG_SIMD_SUM(dot)
        for (std::int64_t c = 0; c < D; ++c) dot += qr[c] * kr[c];
        p[j] = dot * scale;
    }
    softmax_span_forward(p, p, d.kv_len, s.lo, s.hi);
    for (std::int64_t c = 0; c < D; ++c) o[c] = 0.0f;
    for (std::int64_t j = s.lo; j < s.hi; ++j) {
        const float pj = p[j];
        const float* vr = vb + j * kv_stride;
        for (std::int64_t c = 0; c < D; ++c) o[c] += pj * vr[c];
    }
}

/// Backward pass 1 for query row (b, h, i): writes dq[b, i, h, :] and returns
/// delta = sum_j p_j * dp_j with dp_j = dout . v_j, which pass 2 needs.
HOPRAG_INLINE float attention_row_backward_query(const attention_desc& d, std::int64_t b, std::int64_t h, std::int64_t i,
                                                 float* dq, const float* dout, const float* k, const float* v,
                                                 const float* probs) {
    const std::int64_t D = d.head_dim, kvh = h / (d.n_heads / d.n_kv_heads);
    const std::int64_t kv_stride = d.n_kv_heads * D;
    const std::int64_t row = (b * d.q_len + i) * d.n_heads + h;
    const float* go = dout + row * D;
    const float* kb = k + (b * d.kv_len * d.n_kv_heads + kvh) * D;
    const float* vb = v + (b * d.kv_len * d.n_kv_heads + kvh) * D;
    const float* p = probs + ((b * d.n_heads + h) * d.q_len + i) * d.kv_len;
    float* g = dq + row * D;
    const key_span s = attention_keys(d, b, i);
    const float scale = attention_scale(d);
    float delta = 0.0f;
    for (std::int64_t j = s.lo; j < s.hi; ++j) {
        const float* vr = vb + j * kv_stride;
        float dp = 0.0f;
        HOPRAG_SIMD_SUM(dp)
        for (std::int64_t c = 0; c < D; ++c) dp += go[c] * vr[c];
        delta += p[j] * dp;
    }
    for (std::int64_t c = 0; c < D; ++c) g[c] = 0.0f;
    for (std::int64_t j = s.lo; j < s.hi; ++j) {
        const float* vr = vb + j * kv_stride;
        const float* kr = kb + j * kv_stride;
        float dp = 0.0f;
        HOPRAG_SIMD_SUM(dp)
        for (std::int64_t c = 0; c < D; ++c) dp += go[c] * vr[c];
        const float ds = p[j] * (dp - delta) * scale;
        for (std::int64_t c = 0; c < D; ++c) g[c] += ds * kr[c];
    }
    return delta;
}

/// Backward pass 2 for key row (b, kvh, j): writes dk[b, j, kvh, :] and dv[b, j, kvh, :], summed
/// over the query heads sharing kv head kvh and every query that sees key j. `delta` is
/// [batch, n_heads, q_len] from pass 1.
HOPRAG_INLINE void attention_key_backward(const attention_desc& d, std::int64_t b, std::int64_t kvh, std::int64_t j,
                                          float* dk, float* dv, const float* dout, const float* q, const float* v,
                                          const float* probs, const float* delta) {
    const std::int64_t D = d.head_dim, group = d.n_heads / d.n_kv_heads;
    const std::int64_t kv_row = (b * d.kv_len + j) * d.n_kv_heads + kvh;
    const float* vr = v + kv_row * D;
    float* gk = dk + kv_row * D;
    float* gv = dv + kv_row * D;
    const float scale = attention_scale(d);
    for (std::int64_t c = 0; c < D; ++c) gk[c] = 0.0f;
    for (std::int64_t c = 0; c < D; ++c) gv[c] = 0.0f;
    for (std::int64_t i = 0; i < d.q_len; ++i) {
        const key_span s = attention_keys(d, b, i);
        if (j < s.lo || j >= s.hi) continue;
        for (std::int64_t h = kvh * group; h < (kvh + 1) * group; ++h) {
            const std::int64_t row = (b * d.q_len + i) * d.n_heads + h;
            const float* go = dout + row * D;
            const float* qr = q + row * D;
            const float pj = probs[((b * d.n_heads + h) * d.q_len + i) * d.kv_len + j];
            float dp = 0.0f;
            HOPRAG_SIMD_SUM(dp)
        for (std::int64_t c = 0; c < D; ++c) dp += go[c] * vr[c];
            const float ds = pj * (dp - delta[(b * d.n_heads + h) * d.q_len + i]) * scale;
            for (std::int64_t c = 0; c < D; ++c) gk[c] += ds * qr[c];
            for (std::int64_t c = 0; c < D; ++c) gv[c] += pj * go[c];
        }
    }
}

}  // namespace hoprag::kernels
