// CUDA optimiser ops, CUDA-free declarations (DESIGN rule 1): the AdamW update (a kernel over the
// shared body hoprag::train::adamw_element), the sum of squares used by global-norm clipping and
// the inf/NaN check, an in-place scale and a zero fill. Definitions: backends/cuda/src/adamw.cu,
// kernels: hoprag/cuda/adamw.cuh. All pointers are device pointers; the ops are enqueued on the
// context's stream, and sum_squares synchronises it to return its result.
#pragma once

#include <cstddef>
#include <cstdint>
#if __cplusplus >= 202002L
#include <span>
#endif

#include "hoprag/cuda/context.hpp"
#include "hoprag/train/adamw.hpp"

namespace hoprag::cuda {

/// AdamW step over one tensor (weight decay dropped when !t.decay); writes t.low_copy as bf16/f16
/// when set. Throws shape_error/config_error on a bad descriptor, cuda_error on a launch failure.
void adamw_update(context& ctx, const train::adamw_tensor& t, train::adamw_step s);
/// AdamW step over `count` tensors of a model (one launch per tensor).
void adamw_update(context& ctx, const train::adamw_tensor* tensors, std::size_t count, const train::adamw_step& s);
#if __cplusplus >= 202002L
/// AdamW step over every tensor of a model (host C++20 convenience; .cu files build as C++17).
inline void adamw_update(context& ctx, std::span<const train::adamw_tensor> tensors, const train::adamw_step& s) {
    adamw_update(ctx, tensors.data(), tensors.size(), s);
}
#endif

/// sum_i x[i]^2 in double over x[0, n); not finite iff some x[i] is inf or NaN. Deterministic:
/// fixed per-block partial sums added in a fixed order. Synchronises the stream.
double sum_squares(context& ctx, const float* x, std::int64_t n);

}  // namespace hoprag::cuda
