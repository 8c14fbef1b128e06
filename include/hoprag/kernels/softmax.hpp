// Softmax kernel bodies shared by the CPU and CUDA backends (DESIGN rule 2). A row is normalised
// over a span [lo, hi) of its columns; columns outside the span are masked and output exactly 0, and
// an empty span gives a row of zeros. Padding and causal masks are both expressed as such spans.
// Arithmetic is f32 with max subtraction and exp_f32 (hoprag/kernels/math.hpp); the same function
// runs in the CPU loop and the GPU thread.
#pragma once

#include <cmath>
#include <cstdint>

#include "hoprag/core/config.hpp"
#include "hoprag/kernels/math.hpp"

namespace hoprag::kernels {

/// Clamp a per-row column limit to [0, cols].
HOPRAG_INLINE std::int64_t clamp_limit(std::int64_t limit, std::int64_t cols) {
    return limit < 0 ? 0 : (limit > cols ? cols : limit);
}

/// out[j] = exp(x[j] - max) / sum over j in [lo, hi), out[j] = 0 elsewhere, for j < cols.
/// Pre: 0 <= lo, hi <= cols. `out` may alias `x` (in-place softmax).
HOPRAG_INLINE void softmax_span_forward(float* out, const float* x, std::int64_t cols, std::int64_t lo, std::int64_t hi) {
    if (hi <= lo) {
        for (std::int64_t j = 0; j < cols; ++j) out[j] = 0.0f;
        return;
    }
    float m = x[lo];
    HOPRAG_SIMD_MAX(m)
    for (std::int64_t j = lo + 1; j < hi; ++j) m = x[j] > m ? x[j] : m;
    float sum = 0.0f;
    HOPRAG_SIMD_SUM(sum)
    for (std::int64_t j = lo; j < hi; ++j) {
        const float e = exp_f32(x[j] - m);
        out[j] = e;
        sum += e;
    }
    const float inv = 1.0f / sum;
    for (std::int64_t j = 0; j < lo; ++j) out[j] = 0.0f;
    for (std::int64_t j = lo; j < hi; ++j) out[j] *= inv;
    for (std::int64_t j = hi; j < cols; ++j) out[j] = 0.0f;
}

/// Softmax of one row over its first `limit` columns (limit clamped to [0, cols]).
HOPRAG_INLINE void softmax_row_forward(float* out, const float* x, std::int64_t cols, std::int64_t limit) {
    softmax_span_forward(out, x, cols, 0, clamp_limit(limit, cols));
}

/// dx[j] = out[j] * (dout[j] - sum_k dout[k] * out[k]) over one row of `cols` columns. Masked
/// columns have out = 0 and so get dx = 0; no mask is needed. `dx` may alias `dout`.
HOPRAG_INLINE void softmax_row_backward(float* dx, const float* dout, const float* out, std::int64_t cols) {
    float dot = 0.0f;
    HOPRAG_SIMD_SUM(dot)
    for (std::int64_t j = 0; j < cols; ++j) dot += dout[j] * out[j];
    for (std::int64_t j = 0; j < cols; ++j) dx[j] = out[j] * (dout[j] - dot);
}

}  // namespace hoprag::kernels
