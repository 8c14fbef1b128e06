// CUDA kernels of softmax (nvcc only): one thread per row over the shared bodies in
// hoprag/kernels/softmax.hpp. Included only by backends/cuda/src/softmax.cu.
#pragma once

#include <cstdint>

#include "hoprag/kernels/softmax.hpp"

namespace hoprag::cuda::detail {

static __global__ void softmax_forward_kernel(float* out, const float* x, std::int64_t rows, std::int64_t cols,
                                              const std::int32_t* row_limit) {
    const std::int64_t r = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (r >= rows) return;
    kernels::softmax_row_forward(out + r * cols, x + r * cols, cols, row_limit ? row_limit[r] : cols);
}

static __global__ void softmax_backward_kernel(float* dx, const float* dout, const float* out, std::int64_t rows,
                                               std::int64_t cols) {
    const std::int64_t r = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (r >= rows) return;
    kernels::softmax_row_backward(dx + r * cols, dout + r * cols, out + r * cols, cols);
}

}  // namespace hoprag::cuda::detail
