// CUDA NF4 dequantise-GEMM and dropout (CUDA-free declarations; definitions in
// backends/cuda/src/nf4_gemm.cu). Same contracts as hoprag/cpu/nf4_gemm.hpp and hoprag/cpu/dropout.hpp;
// the view's pointers and the activations are device memory. Tiles of W are decoded by a kernel
// over the shared HOPRAG_HOST_DEVICE element decode (quant::nf4_element) into device scratch of the
// compute type and multiplied with cuBLASLt (quant/nf4_gemm.hpp): f32 is full f32 (no TF32), bf16
// and f16 run on tensor cores with f32 accumulation.
#pragma once

#include <cstdint>

#include "hoprag/core/dtype.hpp"
#include "hoprag/core/rng.hpp"
#include "hoprag/cuda/context.hpp"
#include "hoprag/quant/nf4.hpp"
#include "hoprag/quant/nf4_gemm.hpp"

namespace hoprag::cuda {

/// out [m, w.rows] = x [m, w.cols] * dequant(w)^T + beta * out, products in `compute`.
void nf4_gemm(context& ctx, float* out, const float* x, const quant::nf4_view& w, std::int64_t m, float beta = 0.0f,
              dtype compute = dtype::f32, std::int64_t tile_rows = quant::nf4_tile_rows_gpu);
/// dx [m, w.cols] = dy [m, w.rows] * dequant(w) + beta * dx, products in `compute`.
void nf4_gemm_t(context& ctx, float* dx, const float* dy, const quant::nf4_view& w, std::int64_t m, float beta = 0.0f,
                dtype compute = dtype::f32, std::int64_t tile_rows = quant::nf4_tile_rows_gpu);
/// Decodes rows [row0, row0 + count) of w into out [count, w.cols] of type t (f32, bf16 or f16;
/// device memory).
void nf4_dequantize_rows(context& ctx, const quant::nf4_view& w, std::int64_t row0, std::int64_t count, void* out,
                         dtype t = dtype::f32);
/// out[i] = x[i] * dropout_factor(s, i, p) for i < n (out may alias x); 0 <= p < 1.
void dropout(context& ctx, float* out, const float* x, std::int64_t n, float p, const philox_stream& s);

}  // namespace hoprag::cuda
