// CUDA NF4 dequantise-GEMM and dropout (see hoprag/cuda/nf4_gemm.hpp): a tile of W's rows is decoded
// into device scratch of the compute type, then multiplied by cuBLASLt through cuda::gemm (the
// tiling is quant/nf4_gemm.hpp, shared with the CPU backend).
#include <string>

#include "hoprag/backend/compute_gemm.hpp"
#include "hoprag/core/error.hpp"
#include "hoprag/cuda/elementwise.hpp"
#include "hoprag/cuda/gemm.hpp"
#include "hoprag/cuda/launch.cuh"
#include "hoprag/cuda/nf4.cuh"
#include "hoprag/cuda/nf4_gemm.hpp"
#include "hoprag/quant/nf4_gemm.hpp"

namespace hoprag::cuda {

void nf4_dequantize_rows(context& ctx, const quant::nf4_view& w, std::int64_t row0, std::int64_t count, void* out, dtype t) {
    check_compute_type(t, "nf4_dequantize_rows");
    if (row0 < 0 || count < 0 || row0 + count > w.rows)
        throw shape_error("nf4_dequantize_rows: rows [" + std::to_string(row0) + ", " + std::to_string(row0 + count) + ") outside " + std::to_string(w.rows));
    const std::int64_t n = count * w.cols, e0 = row0 * w.cols;
    if (t == dtype::bf16) detail::launch_elements(ctx, n, detail::nf4_decode_fn<bf16>{w, e0, static_cast<bf16*>(out)});
    else if (t == dtype::f16) detail::launch_elements(ctx, n, detail::nf4_decode_fn<f16>{w, e0, static_cast<f16*>(out)});
    else detail::launch_elements(ctx, n, detail::nf4_decode_fn<float>{w, e0, static_cast<float*>(out)});
}

void nf4_gemm(context& ctx, float* out, const float* x, const quant::nf4_view& w, std::int64_t m, float beta, dtype compute, std::int64_t tile_rows) {
    quant::nf4_tiled_gemm(ctx, out, x, w, m, beta, compute, tile_rows);
}

void nf4_gemm_t(context& ctx, float* dx, const float* dy, const quant::nf4_view& w, std::int64_t m, float beta, dtype compute, std::int64_t tile_rows) {
    quant::nf4_tiled_gemm_t(ctx, dx, dy, w, m, beta, compute, tile_rows);
}

void dropout(context& ctx, float* out, const float* x, std::int64_t n, float p, const philox_stream& s) {
    if (!(p >= 0.0f && p < 1.0f)) throw config_error("dropout: probability must be in [0, 1), got " + std::to_string(p));
    detail::launch_elements(ctx, n, detail::dropout_fn{out, x, p, s});
}

}  // namespace hoprag::cuda
