// CUDA kernel of RoPE (nvcc only): one thread per (batch, seq, head) row over the shared body in
// hoprag/kernels/rope.hpp. Included only by backends/cuda/src/rope.cu.
#pragma once

#include <cstdint>

#include "hoprag/kernels/rope.hpp"

namespace hoprag::cuda::detail {

static __global__ void rope_kernel(float* x, const std::int32_t* positions, std::int64_t rows, std::int64_t seq,
                                   std::int64_t heads, std::int64_t head_dim, float theta, rope_style style, float sign) {
    const std::int64_t r = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (r >= rows) return;
    kernels::rope_row(x, positions, r, seq, heads, head_dim, theta, style, sign);
}

}  // namespace hoprag::cuda::detail
