// CPU LayerNorm and RMSNorm, forward and backward: rows in parallel over the row bodies of
// hoprag/kernels/norms.hpp (the arithmetic CUDA runs too). x, out, dout, dx are [rows, cols];
// w, b, dw, db are [cols] (w/b nullptr = no affine part; dw/db nullptr = not wanted); mean and
// rstd are [rows], written by forward and read by backward. dx is written, dw and db accumulate.
#pragma once

#include <cstdint>

#include "hoprag/cpu/context.hpp"
#include "hoprag/cpu/elementwise.hpp"
#include "hoprag/cpu/parallel.hpp"
#include "hoprag/kernels/checks.hpp"
#include "hoprag/kernels/norms.hpp"

namespace hoprag::cpu {

/// out = (x - mean) * rstd * w + b per row; saves mean [rows] and rstd [rows]. Needs cols >= 1.
inline void layernorm_forward(context&, float* out, float* mean, float* rstd, const float* x, const float* w,
                              const float* b, std::int64_t rows, std::int64_t cols, float eps) {
    kernels::require_nonnegative("layernorm_forward", "rows", rows);
    kernels::require_positive("layernorm_forward", "cols", cols);
    kernels::require_pointers("layernorm_forward", rows, {{"out", out}, {"mean", mean}, {"rstd", rstd}, {"x", x}});
    parallel_rows(rows, [&](std::int64_t r) {
        kernels::layernorm_forward_row(kernels::serial_lanes{}, out + r * cols, mean + r, rstd + r, x + r * cols, w, b,
                                       cols, eps);
    }, cols);
}

/// x[r] = (x[r] + bias) + residual[r] (stored: x keeps the LayerNorm input), then out = LayerNorm(x)
/// as layernorm_forward: a linear layer's bias, the residual add and the post-LN in one pass over
/// each row while it is in cache (BERT). bias nullptr = none; residual nullptr = none.
inline void residual_layernorm_forward(context&, float* out, float* mean, float* rstd, float* x, const float* residual,
                                       const float* bias, const float* w, const float* b, std::int64_t rows,
                                       std::int64_t cols, float eps) {
    kernels::require_nonnegative("residual_layernorm_forward", "rows", rows);
    kernels::require_positive("residual_layernorm_forward", "cols", cols);
    kernels::require_pointers("residual_layernorm_forward", rows, {{"out", out}, {"mean", mean}, {"rstd", rstd}, {"x", x}});
    parallel_rows(rows, [&](std::int64_t r) {
        float* xr = x + r * cols;
        if (bias) detail::add_bias_row(xr, bias, cols);
        if (residual) detail::add_bias_row(xr, residual + r * cols, cols);
        kernels::layernorm_forward_row(kernels::serial_lanes{}, out + r * cols, mean + r, rstd + r, xr, w, b, cols, eps);
    });
}

/// dx = d LayerNorm / dx applied to dout (written); dw += sum_r dout * xhat, db += sum_r dout.
inline void layernorm_backward(context& ctx, float* dx, float* dw, float* db, const float* dout, const float* x,
                               const float* w, const float* mean, const float* rstd, std::int64_t rows,
                               std::int64_t cols) {
    kernels::require_nonnegative("layernorm_backward", "rows", rows);
    kernels::require_positive("layernorm_backward", "cols", cols);
    kernels::require_pointers("layernorm_backward", rows,
                              {{"dx", dx}, {"dout", dout}, {"x", x}, {"mean", mean}, {"rstd", rstd}});
    parallel_rows(rows, [&](std::int64_t r) {
        kernels::layernorm_backward_row(kernels::serial_lanes{}, dx + r * cols, dout + r * cols, x + r * cols, w,
                                        mean[r], rstd[r], cols);
    }, cols);
    if (dw)
        detail::accumulate_columns(dw, rows, cols, [&](std::int64_t r, std::int64_t c) {
            return kernels::layernorm_dw_term(dout[r * cols + c], x[r * cols + c], mean[r], rstd[r]);
        });
    if (db) sum_rows(ctx, db, dout, rows, cols);
}

/// out = x * rstd * w per row, rstd = 1 / sqrt(mean(x^2) + eps); saves rstd [rows]. Needs cols >= 1.
inline void rmsnorm_forward(context&, float* out, float* rstd, const float* x, const float* w, std::int64_t rows,
                            std::int64_t cols, float eps) {
    kernels::require_nonnegative("rmsnorm_forward", "rows", rows);
    kernels::require_positive("rmsnorm_forward", "cols", cols);
    kernels::require_pointers("rmsnorm_forward", rows, {{"out", out}, {"rstd", rstd}, {"x", x}});
    parallel_rows(rows, [&](std::int64_t r) {
        kernels::rmsnorm_forward_row(kernels::serial_lanes{}, out + r * cols, rstd + r, x + r * cols, w, cols, eps);
    }, cols);
}

/// dx = d RMSNorm / dx applied to dout (written); dw += sum_r dout * x * rstd.
inline void rmsnorm_backward(context&, float* dx, float* dw, const float* dout, const float* x, const float* w,
                             const float* rstd, std::int64_t rows, std::int64_t cols) {
    kernels::require_nonnegative("rmsnorm_backward", "rows", rows);
    kernels::require_positive("rmsnorm_backward", "cols", cols);
    kernels::require_pointers("rmsnorm_backward", rows, {{"dx", dx}, {"dout", dout}, {"x", x}, {"rstd", rstd}});
    parallel_rows(rows, [&](std::int64_t r) {
        kernels::rmsnorm_backward_row(kernels::serial_lanes{}, dx + r * cols, dout + r * cols, x + r * cols, w, rstd[r],
                                      cols);
    }, cols);
    if (dw)
        detail::accumulate_columns(dw, rows, cols, [&](std::int64_t r, std::int64_t c) {
            return kernels::rmsnorm_dw_term(dout[r * cols + c], x[r * cols + c], rstd[r]);
        });
}

}  // namespace hoprag::cpu
