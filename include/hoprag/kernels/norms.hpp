// Row bodies of LayerNorm and RMSNorm, forward and backward, written once against the `Lanes`
// interface (hoprag/kernels/lanes.hpp): the CPU runs them with one serial lane per row, CUDA with a
// warp per row. Row-major x [rows, cols]; per-row statistics mean [rows] and rstd [rows] are saved
// by forward for backward. Parameter gradients (dw, db) are column sums over rows; their
// per-element terms are here and the backends sum them over rows in row order (deterministic).
//   LayerNorm: xhat = (x - mean) * rstd, rstd = 1 / sqrt(var + eps) (biased variance),
//              out = xhat * w + b;  dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), g = dout * w.
//   RMSNorm:   rstd = 1 / sqrt(mean(x^2) + eps), out = x * rstd * w;
//              dx = rstd * (g - x * rstd^2 * mean(g * x)), g = dout * w.
// w == nullptr means w = 1, b == nullptr means b = 0 (no affine part).
#pragma once

#include <cmath>
#include <cstdint>

#include "hoprag/core/config.hpp"
#include "hoprag/kernels/lanes.hpp"

namespace hoprag::kernels {

/// LayerNorm of one row x[cols] into out[cols] (out may alias x); lane 0 stores *mean and *rstd.
template <class Lanes>
HOPRAG_INLINE void layernorm_forward_row(const Lanes& g, float* out, float* mean, float* rstd, const float* x,
                                         const float* w, const float* b, std::int64_t cols, float eps) {
    const float inv_n = 1.0f / static_cast<float>(cols);
    const float mu = g.sum_over(cols, [&](std::int64_t c) { return x[c]; }) * inv_n;
    const float var = g.sum_over(cols, [&](std::int64_t c) {
        const float d = x[c] - mu;
        return d * d;
    }) * inv_n;
    const float r = 1.0f / ::sqrtf(var + eps);
    for (std::int64_t c = g.lane(); c < cols; c += g.count()) {
        const float y = (x[c] - mu) * r;
        out[c] = (w ? y * w[c] : y) + (b ? b[c] : 0.0f);
    }
    if (g.lane() == 0) {
        *mean = mu;
        *rstd = r;
    }
}

/// dx[cols] of one LayerNorm row from dout, x, w (nullable) and the saved mean and rstd.
template <class Lanes>
HOPRAG_INLINE void layernorm_backward_row(const Lanes& g, float* dx, const float* dout, const float* x, const float* w,
                                          float mean, float rstd, std::int64_t cols) {
    const float inv_n = 1.0f / static_cast<float>(cols);
    const float mg = g.sum_over(cols, [&](std::int64_t c) { return w ? dout[c] * w[c] : dout[c]; }) * inv_n;
    const float mgx = g.sum_over(cols, [&](std::int64_t c) {
        return (w ? dout[c] * w[c] : dout[c]) * ((x[c] - mean) * rstd);
    }) * inv_n;
    for (std::int64_t c = g.lane(); c < cols; c += g.count()) {
        const float gc = w ? dout[c] * w[c] : dout[c];
        const float xhat = (x[c] - mean) * rstd;
        dx[c] = rstd * (gc - mg - xhat * mgx);
    }
}

/// The term of dw[c] contributed by one element: dout * xhat.
HOPRAG_INLINE float layernorm_dw_term(float dout, float x, float mean, float rstd) {
    return dout * (x - mean) * rstd;
}

/// RMSNorm of one row x[cols] into out[cols] (out may alias x); lane 0 stores *rstd.
template <class Lanes>
HOPRAG_INLINE void rmsnorm_forward_row(const Lanes& g, float* out, float* rstd, const float* x, const float* w,
                                       std::int64_t cols, float eps) {
    const float ms = g.sum_over(cols, [&](std::int64_t c) { return x[c] * x[c]; }) / static_cast<float>(cols);
    const float r = 1.0f / ::sqrtf(ms + eps);
    for (std::int64_t c = g.lane(); c < cols; c += g.count()) out[c] = w ? x[c] * r * w[c] : x[c] * r;
    if (g.lane() == 0) *rstd = r;
}

/// dx[cols] of one RMSNorm row from dout, x, w (nullable) and the saved rstd.
template <class Lanes>
HOPRAG_INLINE void rmsnorm_backward_row(const Lanes& g, float* dx, const float* dout, const float* x, const float* w,
                                        float rstd, std::int64_t cols) {
    const float sgx = g.sum_over(cols, [&](std::int64_t c) { return (w ? dout[c] * w[c] : dout[c]) * x[c]; });
    const float k = sgx / static_cast<float>(cols) * rstd * rstd;
    for (std::int64_t c = g.lane(); c < cols; c += g.count()) {
        const float gc = w ? dout[c] * w[c] : dout[c];
        dx[c] = rstd * (gc - x[c] * k);
    }
}

/// The term of dw[c] contributed by one element: dout * x * rstd.
HOPRAG_INLINE float rmsnorm_dw_term(float dout, float x, float rstd) {
    return dout * x * rstd;
}

}  // namespace hoprag::kernels
