// CPU dequantise-GEMM for NF4 weights: out [m, n] = x [m, k] W^T (+ beta * out) for W an NF4 matrix
// [n, k] (`nf4_gemm`, the forward of a linear layer), and dx [m, k] = dy [m, n] W (+ beta * dx)
// (`nf4_gemm_t`, the input gradient; W's own gradient is never formed). W is decoded a tile of rows
// at a time (nf4_dequantize_rows below, rows in parallel) into scratch of the compute type and
// multiplied with the backend GEMM (quant/nf4_gemm.hpp), so the decoded copy of W never exists
// whole; a few rows of x in f32 read the codes directly (nf4_gemv.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hoprag/backend/ops.hpp"
#include "hoprag/cpu/elementwise.hpp"
#include "hoprag/cpu/gemm.hpp"
#include "hoprag/cpu/nf4_gemv.hpp"
#include "hoprag/quant/nf4.hpp"
#include "hoprag/quant/nf4_gemm.hpp"

namespace hoprag::cpu {

/// Up to this many rows of x, an f32 nf4_gemm runs matrix-vector products on the codes (nf4_gemv.hpp).
inline constexpr std::int64_t nf4_gemv_max_rows = 4;

/// Decodes rows [row0, row0 + count) of w into out [count, w.cols] of type t (f32, bf16 or f16).
inline void nf4_dequantize_rows(context& ctx, const quant::nf4_view& w, std::int64_t row0, std::int64_t count, void* out,
                                dtype t = dtype::f32) {
    check_compute_type(t, "nf4_dequantize_rows");
    if (row0 < 0 || count < 0 || row0 + count > w.rows)
        throw shape_error("nf4_dequantize_rows: rows [" + std::to_string(row0) + ", " + std::to_string(row0 + count) + ") outside " + std::to_string(w.rows));
    std::vector<float> wide(t == dtype::f32 ? 0 : static_cast<std::size_t>(count * w.cols));
    float* f = t == dtype::f32 ? static_cast<float*>(out) : wide.data();
    if (w.cols % quant::nf4_block == 0)  // rows hold whole blocks: decode them in parallel
        parallel_rows(count, [&](std::int64_t i) { quant::nf4_dequantize_rows(w, row0 + i, 1, f + i * w.cols); });
    else
        quant::nf4_dequantize_rows(w, row0, count, f);
    if (t != dtype::f32) cast(ctx, out, t, f, dtype::f32, count * w.cols);
}

/// out [m, w.rows] = x [m, w.cols] * dequant(w)^T + beta * out, products in `compute` (f32, bf16
/// or f16; f32 accumulation). tile_rows: rows of W per tile. For f32, m <= nf4_gemv_max_rows and
/// w.cols % 64 == 0 (decode steps) the codes are read directly.
inline void nf4_gemm(context& ctx, float* out, const float* x, const quant::nf4_view& w, std::int64_t m, float beta = 0.0f,
                     dtype compute = dtype::f32, std::int64_t tile_rows = quant::nf4_tile_rows_cpu) {
    if (compute == dtype::f32 && m >= 0 && m <= nf4_gemv_max_rows && w.cols % quant::nf4_block == 0 && tile_rows > 0)
        return nf4_gemv(ctx, out, x, w, m, beta);
    quant::nf4_tiled_gemm(ctx, out, x, w, m, beta, compute, tile_rows);
}

/// Same, for a host nf4_tensor.
inline void nf4_gemm(context& ctx, float* out, const float* x, const quant::nf4_tensor& w, std::int64_t m, float beta = 0.0f,
                     dtype compute = dtype::f32, std::int64_t tile_rows = quant::nf4_tile_rows_cpu) {
    nf4_gemm(ctx, out, x, quant::view(w), m, beta, compute, tile_rows);
}

/// dx [m, w.cols] = dy [m, w.rows] * dequant(w) + beta * dx (tiles of W's rows summed in order),
/// products in `compute`.
inline void nf4_gemm_t(context& ctx, float* dx, const float* dy, const quant::nf4_view& w, std::int64_t m, float beta = 0.0f,
                       dtype compute = dtype::f32, std::int64_t tile_rows = quant::nf4_tile_rows_cpu) {
    quant::nf4_tiled_gemm_t(ctx, dx, dy, w, m, beta, compute, tile_rows);
}

}  // namespace hoprag::cpu
