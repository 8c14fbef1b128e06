// CUDA LayerNorm and RMSNorm forward/backward (CUDA-free declarations; definitions in
// backends/cuda/src/norms.cu). Same signatures and semantics as hoprag/cpu/norms.hpp: x, out,
// dout, dx [rows, cols]; w, b, dw, db [cols] (nullptr = absent); mean, rstd [rows]. dx is written,
// dw and db accumulate (one thread per column, rows in order: deterministic). Device pointers.
#pragma once

#include <cstdint>

#include "hoprag/cuda/context.hpp"

namespace hoprag::cuda {

void layernorm_forward(context& ctx, float* out, float* mean, float* rstd, const float* x, const float* w,
                       const float* b, std::int64_t rows, std::int64_t cols, float eps);
void layernorm_backward(context& ctx, float* dx, float* dw, float* db, const float* dout, const float* x,
                        const float* w, const float* mean, const float* rstd, std::int64_t rows, std::int64_t cols);
void rmsnorm_forward(context& ctx, float* out, float* rstd, const float* x, const float* w, std::int64_t rows,
                     std::int64_t cols, float eps);
void rmsnorm_backward(context& ctx, float* dx, float* dw, const float* dout, const float* x, const float* w,
                      const float* rstd, std::int64_t rows, std::int64_t cols);

}  // namespace hoprag::cuda
