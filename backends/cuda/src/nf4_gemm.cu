// CUDA NF4 dequantise-GEMM and dropout (see hoprag/cuda/nf4_gemm.hpp): a tile of W's rows is decoded
// into device scratch, then multiplied by cuBLASLt through cuda::gemm.
#include <algorithm>
#include <string>

#include "hoprag/backend/buffer.hpp"
#include "hoprag/core/error.hpp"
#include "hoprag/cuda/gemm.hpp"
#include "hoprag/cuda/launch.cuh"
#include "hoprag/cuda/nf4.cuh"
#include "hoprag/cuda/nf4_gemm.hpp"

namespace hoprag::cuda {

void nf4_dequantize_rows(context& ctx, const quant::nf4_view& w, std::int64_t row0, std::int64_t count, float* out) {
    if (row0 < 0 || count < 0 || row0 + count > w.rows)
        throw shape_error("nf4_dequantize_rows: rows [" + std::to_string(row0) + ", " + std::to_string(row0 + count) + ") outside " + std::to_string(w.rows));
    detail::launch_elements(ctx, count * w.cols, detail::nf4_decode_fn{w, row0 * w.cols, out});
}

void nf4_gemm(context& ctx, float* out, const float* x, const quant::nf4_view& w, std::int64_t m, float beta, std::int64_t tile_rows) {
    if (m < 0 || tile_rows <= 0) throw shape_error("nf4_gemm: m must be >= 0 and tile_rows > 0, got " + std::to_string(m) + ", " + std::to_string(tile_rows));
    if (w.rows == 0 || m == 0) return;
    buffer<context, float> tile(ctx, static_cast<std::size_t>(std::min(tile_rows, w.rows) * w.cols));
    for (std::int64_t r0 = 0; r0 < w.rows; r0 += tile_rows) {
        const std::int64_t nr = std::min(tile_rows, w.rows - r0);
        nf4_dequantize_rows(ctx, w, r0, nr, tile.data());
        gemm_desc d;
        d.m = m, d.n = nr, d.k = w.cols, d.trans_b = true, d.beta = beta;
        d.lda = w.cols, d.ldb = w.cols, d.ldc = w.rows;
        gemm(ctx, packed(d), x, tile.data(), out + r0);
    }
}

void nf4_gemm_t(context& ctx, float* dx, const float* dy, const quant::nf4_view& w, std::int64_t m, float beta, std::int64_t tile_rows) {
    if (m < 0 || tile_rows <= 0) throw shape_error("nf4_gemm_t: m must be >= 0 and tile_rows > 0, got " + std::to_string(m) + ", " + std::to_string(tile_rows));
    if (w.rows == 0 || m == 0) return;
    buffer<context, float> tile(ctx, static_cast<std::size_t>(std::min(tile_rows, w.rows) * w.cols));
    for (std::int64_t r0 = 0; r0 < w.rows; r0 += tile_rows) {
        const std::int64_t nr = std::min(tile_rows, w.rows - r0);
        nf4_dequantize_rows(ctx, w, r0, nr, tile.data());
        gemm_desc d;
        d.m = m, d.n = w.cols, d.k = nr, d.beta = r0 == 0 ? beta : 1.0f;
        d.lda = w.rows, d.ldb = w.cols, d.ldc = w.cols;
        gemm(ctx, packed(d), dy + r0, tile.data(), dx);
    }
}

void dropout(context& ctx, float* out, const float* x, std::int64_t n, float p, const philox_stream& s) {
    if (!(p >= 0.0f && p < 1.0f)) throw config_error("dropout: probability must be in [0, 1), got " + std::to_string(p));
    detail::launch_elements(ctx, n, detail::dropout_fn{out, x, p, s});
}

}  // namespace hoprag::cuda
