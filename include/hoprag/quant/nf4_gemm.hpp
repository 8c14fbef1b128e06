// The dequantise-GEMMs of an NF4 weight W [n, k], written once over the backend interface:
//   nf4_tiled_gemm:   out [m, n] = x [m, k] W^T + beta * out   (a linear layer's forward)
//   nf4_tiled_gemm_t: dx [m, k] = dy [m, n] W + beta * dx      (its input gradient)
// W is decoded `tile_rows` rows at a time by the backend's nf4_dequantize_rows straight into the
// compute type (f32, bf16 or f16) and multiplied by the backend gemm with f32 accumulation; x / dy
// are rounded to the compute type once per call. The decoded copy of W never exists whole. Each
// backend's nf4_gemm / nf4_gemm_t calls these (the CPU backend first tries its code-reading GEMV).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "hoprag/backend/buffer.hpp"
#include "hoprag/backend/compute_gemm.hpp"
#include "hoprag/backend/ops.hpp"
#include "hoprag/core/error.hpp"
#include "hoprag/quant/nf4.hpp"

namespace hoprag::quant {

/// Rows of W per decoded tile by default: the CPU backend (cache-sized) and the CUDA backend.
inline constexpr std::int64_t nf4_tile_rows_cpu = 256, nf4_tile_rows_gpu = 1024;

namespace detail {

inline void check_nf4_gemm(const char* who, std::int64_t m, std::int64_t tile_rows, dtype compute) {
    if (m < 0 || tile_rows <= 0)
        throw shape_error(std::string(who) + ": m must be >= 0 and tile_rows > 0, got " + std::to_string(m) + ", " + std::to_string(tile_rows));
    check_compute_type(compute, who);
}

/// x [n] as the GEMM's A operand: itself for f32, else a rounded copy kept in `keep`.
template <class Context>
const void* gemm_operand(Context& ctx, const float* x, std::int64_t n, dtype compute, buffer<Context, std::byte>& keep) {
    if (compute == dtype::f32) return x;
    keep = rounded_copy(ctx, x, n, compute);
    return keep.data();
}

}  // namespace detail

/// out [m, w.rows] = x [m, w.cols] dequant(w)^T + beta * out, products in `compute`.
template <class Context>
void nf4_tiled_gemm(Context& ctx, float* out, const float* x, const nf4_view& w, std::int64_t m, float beta, dtype compute,
                    std::int64_t tile_rows) {
    detail::check_nf4_gemm("nf4_gemm", m, tile_rows, compute);
    if (w.rows == 0 || m == 0) return;
    buffer<Context, std::byte> x16;
    const void* xa = detail::gemm_operand(ctx, x, m * w.cols, compute, x16);
    buffer<Context, std::byte> tile(ctx, static_cast<std::size_t>(std::min(tile_rows, w.rows) * w.cols) * dtype_size(compute));
    for (std::int64_t r0 = 0; r0 < w.rows; r0 += tile_rows) {
        const std::int64_t nr = std::min(tile_rows, w.rows - r0);
        nf4_dequantize_rows(ctx, w, r0, nr, tile.data(), compute);
        gemm_desc d;
        d.m = m, d.n = nr, d.k = w.cols, d.trans_b = true, d.beta = beta, d.ab_type = compute;
        d.lda = w.cols, d.ldb = w.cols, d.ldc = w.rows;
        gemm(ctx, packed(d), xa, tile.data(), out + r0);
    }
}

/// dx [m, w.cols] = dy [m, w.rows] dequant(w) + beta * dx (tiles of W's rows summed in order),
/// products in `compute`.
template <class Context>
void nf4_tiled_gemm_t(Context& ctx, float* dx, const float* dy, const nf4_view& w, std::int64_t m, float beta, dtype compute,
                      std::int64_t tile_rows) {
    detail::check_nf4_gemm("nf4_gemm_t", m, tile_rows, compute);
    if (m == 0) return;
    if (w.rows == 0) {  // an empty sum: dx = beta * dx
        if (beta == 0.0f) zero_fill(ctx, dx, m * w.cols);
        else if (beta != 1.0f) scale(ctx, dx, dx, beta, m * w.cols);
        return;
    }
    buffer<Context, std::byte> dy16;
    const auto* dya = static_cast<const std::byte*>(detail::gemm_operand(ctx, dy, m * w.rows, compute, dy16));
    const std::size_t s = dtype_size(compute);
    buffer<Context, std::byte> tile(ctx, static_cast<std::size_t>(std::min(tile_rows, w.rows) * w.cols) * s);
    for (std::int64_t r0 = 0; r0 < w.rows; r0 += tile_rows) {
        const std::int64_t nr = std::min(tile_rows, w.rows - r0);
        nf4_dequantize_rows(ctx, w, r0, nr, tile.data(), compute);
        gemm_desc d;
        d.m = m, d.n = w.cols, d.k = nr, d.beta = r0 == 0 ? beta : 1.0f, d.ab_type = compute;
        d.lda = w.rows, d.ldb = w.cols, d.ldc = w.cols;
        gemm(ctx, packed(d), dya + static_cast<std::size_t>(r0) * s, tile.data(), dx);
    }
}

}  // namespace hoprag::quant
