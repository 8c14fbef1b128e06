// CUDA NF4 dequantise-GEMM and dropout (CUDA-free declarations; definitions in
// backends/cuda/src/nf4_gemm.cu). Same contracts as hoprag/cpu/nf4_gemm.hpp and hoprag/cpu/dropout.hpp;
// the view's pointers and the activations are device memory. Tiles of W are decoded by a kernel
// over the shared HOPRAG_HOST_DEVICE element decode (quant::nf4_element) into device scratch and
// multiplied with cuBLASLt (full f32, no TF32).
#pragma once

#include <cstdint>

#include "hoprag/core/rng.hpp"
#include "hoprag/cuda/context.hpp"
#include "hoprag/quant/nf4.hpp"

namespace hoprag::cuda {

/// out [m, w.rows] = x [m, w.cols] * dequant(w)^T + beta * out.
void nf4_gemm(context& ctx, float* out, const float* x, const quant::nf4_view& w, std::int64_t m, float beta = 0.0f,
              std::int64_t tile_rows = 1024);
/// dx [m, w.cols] = dy [m, w.rows] * dequant(w) + beta * dx.
void nf4_gemm_t(context& ctx, float* dx, const float* dy, const quant::nf4_view& w, std::int64_t m, float beta = 0.0f,
                std::int64_t tile_rows = 1024);
/// Decodes rows [row0, row0 + count) of w into out [count, w.cols] (device memory).
void nf4_dequantize_rows(context& ctx, const quant::nf4_view& w, std::int64_t row0, std::int64_t count, float* out);
/// out[i] = x[i] * dropout_factor(s, i, p) for i < n (out may alias x); 0 <= p < 1.
void dropout(context& ctx, float* out, const float* x, std::int64_t n, float p, const philox_stream& s);

}  // namespace hoprag::cuda
