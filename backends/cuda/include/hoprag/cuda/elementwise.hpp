// CUDA elementwise ops (CUDA-free declarations; definitions in backends/cuda/src/elementwise.cu):
// add, scale, dtype cast, column sums and the activations GELU, SiLU, SwiGLU forward and backward.
// Same signatures and semantics as hoprag/cpu/elementwise.hpp; pointers are device memory and the
// work is queued on the context's stream. sum_rows is deterministic (one thread per column, rows
// summed in order).
#pragma once

#include <cstdint>

#include "hoprag/backend/ops.hpp"
#include "hoprag/core/dtype.hpp"
#include "hoprag/cuda/context.hpp"

namespace hoprag::cuda {

/// out[i] = x[i] + y[i] for i < n.
void add(context& ctx, float* out, const float* x, const float* y, std::int64_t n);
/// out[i] = s * x[i] for i < n.
void scale(context& ctx, float* out, const float* x, float s, std::int64_t n);
/// x[i] = 0 for i < n.
void zero_fill(context& ctx, float* x, std::int64_t n);
/// n elements of type `from` at x converted to `to` at out (f32, bf16, f16; nearest even);
/// throws config_error for other types.
void cast(context& ctx, void* out, dtype to, const void* x, dtype from, std::int64_t n);
/// out[c] += sum_r x[r, c] for x [rows, cols] (accumulates).
void sum_rows(context& ctx, float* out, const float* x, std::int64_t rows, std::int64_t cols);

/// out[i] = GELU(x[i]); dx[i] = dout[i] * GELU'(x[i]).
void gelu_forward(context& ctx, float* out, const float* x, std::int64_t n, gelu_kind kind);
void gelu_backward(context& ctx, float* dx, const float* dout, const float* x, std::int64_t n, gelu_kind kind);
/// out[i] = x[i] * sigmoid(x[i]); dx[i] = dout[i] * SiLU'(x[i]).
void silu_forward(context& ctx, float* out, const float* x, std::int64_t n);
void silu_backward(context& ctx, float* dx, const float* dout, const float* x, std::int64_t n);
/// out[i] = silu(gate[i]) * up[i]; backward writes dgate and dup.
void swiglu_forward(context& ctx, float* out, const float* gate, const float* up, std::int64_t n);
void swiglu_backward(context& ctx, float* dgate, float* dup, const float* dout, const float* gate, const float* up,
                     std::int64_t n);

}  // namespace hoprag::cuda
