// CUDA softmax over rows with per-row column limits, forward and backward: the CUDA-free
// declarations (DESIGN rule 1). Definitions are in backends/cuda/src/softmax.cu; semantics and
// signatures match hoprag::cpu::softmax_forward / softmax_backward, with device pointers.
#pragma once

#include <cstdint>

#include "hoprag/cuda/context.hpp"

namespace hoprag::cuda {

/// See hoprag::cpu::softmax_forward. x, out: device [rows, cols]; row_limit: device [rows] or nullptr.
void softmax_forward(context& ctx, float* out, const float* x, std::int64_t rows, std::int64_t cols,
                     const std::int32_t* row_limit = nullptr);
/// See hoprag::cpu::softmax_backward. All pointers are device [rows, cols].
void softmax_backward(context& ctx, float* dx, const float* dout, const float* out, std::int64_t rows, std::int64_t cols);

}  // namespace hoprag::cuda
