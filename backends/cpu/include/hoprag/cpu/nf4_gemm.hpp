// CPU dequantise-GEMM for NF4 weights: out [m, n] = x [m, k] W^T (+ beta * out) for W an NF4 matrix
// [n, k] (`nf4_gemm`, the forward of a linear layer), and dx [m, k] = dy [m, n] W (+ beta * dx)
// (`nf4_gemm_t`, the input gradient; W's own gradient is never formed). W is decoded a tile of rows
// at a time into an f32 scratch (the shared block kernel of hoprag/quant/nf4.hpp) and multiplied
// with the backend GEMM, so the f32 copy of W never exists whole.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "hoprag/backend/ops.hpp"
#include "hoprag/cpu/gemm.hpp"
#include "hoprag/cpu/nf4_gemv.hpp"
#include "hoprag/quant/nf4.hpp"

namespace hoprag::cpu {

/// Up to this many rows of x, nf4_gemm runs matrix-vector products on the codes (nf4_gemv.hpp).
inline constexpr std::int64_t nf4_gemv_max_rows = 4;

/// out [m, w.rows] = x [m, w.cols] * dequant(w)^T + beta * out. tile_rows: rows of W per tile.
/// For m <= nf4_gemv_max_rows and w.cols % 64 == 0 (decode steps) the codes are read directly.
inline void nf4_gemm(context& ctx, float* out, const float* x, const quant::nf4_view& w, std::int64_t m, float beta = 0.0f,
                     std::int64_t tile_rows = 256) {
    if (m < 0 || tile_rows <= 0) throw shape_error("nf4_gemm: m must be >= 0 and tile_rows > 0, got " + std::to_string(m) + ", " + std::to_string(tile_rows));
    if (m <= nf4_gemv_max_rows && w.cols % quant::nf4_block == 0) return nf4_gemv(ctx, out, x, w, m, beta);
    std::vector<float> tile(static_cast<std::size_t>(std::min(tile_rows, w.rows) * w.cols));
    for (std::int64_t r0 = 0; r0 < w.rows; r0 += tile_rows) {
        const std::int64_t nr = std::min(tile_rows, w.rows - r0);
        if (w.cols % quant::nf4_block == 0)  // rows hold whole blocks: decode them in parallel
            parallel_rows(nr, [&](std::int64_t i) { quant::nf4_dequantize_rows(w, r0 + i, 1, tile.data() + i * w.cols); });
        else
            quant::nf4_dequantize_rows(w, r0, nr, tile.data());
        gemm_desc d;
        d.m = m, d.n = nr, d.k = w.cols, d.trans_b = true, d.beta = beta;
        d.lda = w.cols, d.ldb = w.cols, d.ldc = w.rows;
        gemm(ctx, packed(d), x, tile.data(), out + r0);
    }
}

/// Same, for a host nf4_tensor.
inline void nf4_gemm(context& ctx, float* out, const float* x, const quant::nf4_tensor& w, std::int64_t m, float beta = 0.0f,
                     std::int64_t tile_rows = 256) {
    nf4_gemm(ctx, out, x, quant::view(w), m, beta, tile_rows);
}

/// dx [m, w.cols] = dy [m, w.rows] * dequant(w) + beta * dx (tiles of W's rows summed in order).
inline void nf4_gemm_t(context& ctx, float* dx, const float* dy, const quant::nf4_view& w, std::int64_t m, float beta = 0.0f,
                       std::int64_t tile_rows = 256) {
    if (m < 0 || tile_rows <= 0) throw shape_error("nf4_gemm_t: m must be >= 0 and tile_rows > 0, got " + std::to_string(m) + ", " + std::to_string(tile_rows));
    std::vector<float> tile(static_cast<std::size_t>(std::min(tile_rows, w.rows) * w.cols));
    for (std::int64_t r0 = 0; r0 < w.rows; r0 += tile_rows) {
        const std::int64_t nr = std::min(tile_rows, w.rows - r0);
        quant::nf4_dequantize_rows(w, r0, nr, tile.data());
        gemm_desc d;
        d.m = m, d.n = w.cols, d.k = nr, d.beta = r0 == 0 ? beta : 1.0f;
        d.lda = w.rows, d.ldb = w.cols, d.ldc = w.cols;
        gemm(ctx, packed(d), dy + r0, tile.data(), dx);
    }
    if (w.rows == 0 && beta != 1.0f) {
        for (std::int64_t i = 0; i < m * w.cols; ++i) dx[i] = beta == 0.0f ? 0.0f : beta * dx[i];
    }
}

}  // namespace hoprag::cpu
