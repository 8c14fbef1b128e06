// CUDA kernel (as a launch functor) of top-k: one thread per row over the shared row body of
// hoprag/kernels/topk.hpp. nvcc only; included by backends/cuda/src/topk.cu.
#pragma once

#include <cstdint>

#include "hoprag/kernels/topk.hpp"

namespace hoprag::cuda::detail {

struct topk_fn {
    float* values;
    std::int32_t* indices;
    const float* x;
    std::int64_t cols, k;
    __device__ void operator()(std::int64_t r) const {
        kernels::topk_row(values + r * k, indices + r * k, x + r * cols, cols, k);
    }
};

}  // namespace hoprag::cuda::detail
