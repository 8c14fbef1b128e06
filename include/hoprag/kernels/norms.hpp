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
    float s = 0.0f;
    for (std::int64_t c = g.lane(); c < cols; c += g.count()) s += x[c];
    const float mu = g.sum(s) * inv_n;
    float v = 0.0f;
    for (std::int64_t c = g.lane(); c < cols; c += g.count()) {
        const float d = x[c] - mu;
        v += d * d;
    }
    const float r = 1.0f / ::sqrtf(g.sum(v) * inv_n + eps);
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
    float sg = 0.0f, sgx = 0.0f;
    for (std::int64_t c = g.lane(); c < cols; c += g.count()) {
        const float gc = w ? dout[c] * w[c] : dout[c];
        sg += gc;
        sgx += gc * (x[c] - mean) * rstd;
    }
    const float inv_n = 1.0f / static_cast<float>(cols);
    const float mg = g.sum(sg) * inv_n;
    const float mgx = g.sum(sgx) * inv_n;
    for (std::int64_t c = g.lane(); c < cols; c += g.count()) {
        const float gc = w ? dout[c] * w[c] : dout[c];
        const float xhat = (x[c] - mean) * rstd;
        dx[c] = rstd * (gc - mg - xhat * mgx);
    }
}

/// The term of dw[c] contributed by one element: dout * xhat.
HOPRAG_INLINE float layernorm_dw_term(float dout, float x, float mean, float rstd) { return dout * (x - mean) * rstd; }

/// RMSNorm of one row x[cols] into out[cols] (out may alias x); lane 0 stores *rstd.
template <class Lanes>
HOPRAG_INLINE void rmsnorm_forward_row(const Lanes& g, float* out, float* rstd, const float* x, const float* w,
                                       std::int64_t cols, float eps) {
    float s = 0.0f;
    for (std::int64_t c = g.lane(); c < cols; c += g.count()) s += x[c] * x[c];
    const float r = 1.0f / ::sqrtf(g.sum(s) / static_cast<float>(cols) + eps);
    for (std::int64_t c = g.lane(); c < cols; c += g.count()) out[c] = w ? x[c] * r * w[c] : x[c] * r;
    if (g.lane() == 0) *rstd = r;
}

/// dx[cols] of one RMSNorm row from dout, x, w (nullable) and the saved rstd.
template <class Lanes>
HOPRAG_INLINE void rmsnorm_backward_row(const Lanes& g, float* dx, const float* dout, const float* x, const float* w,
                                        float rstd, std::int64_t cols) {
    float sgx = 0.0f;
    for (std::int64_t c = g.lane(); c < cols; c += g.count()) sgx += (w ? dout[c] * w[c] : dout[c]) * x[c];
    const float k = g.sum(sgx) / static_cast<float>(cols) * rstd * rstd;
    for (std::int64_t c = g.lane(); c < cols; c += g.count()) {
        const float gc = w ? dout[c] * w[c] : dout[c];
        dx[c] = rstd * (gc - x[c] * k);
    }
}

/// The term of dw[c] contributed by one element: dout * x * rstd.
HOPRAG_INLINE float rmsnorm_dw_term(float dout, float x, float rstd) { return dout * x * rstd; }

}  // namespace hoprag::kernels
