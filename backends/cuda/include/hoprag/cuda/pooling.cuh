// CUDA kernel (as a launch functor) of sequence pooling: one warp per sequence over the shared row
// body of hoprag/kernels/pooling.hpp. nvcc only; included by backends/cuda/src/pooling.cu.
#pragma once

#include <cstdint>

#include "hoprag/cuda/launch.cuh"
#include "hoprag/kernels/pooling.hpp"

namespace hoprag::cuda::detail {

struct sequence_pool_fn {
    float* out;
    const float* x;
    const std::int32_t* valid;
    std::int64_t seq, dim;
    kernels::pooling_kind kind;
    bool normalize;
    __device__ void operator()(std::int64_t b, const warp_lanes& g) const {
        const std::int64_t v = valid[b] < 0 ? 0 : (valid[b] > seq ? seq : valid[b]);
        kernels::pool_row(g, out + b * dim, x + b * seq * dim, dim, v, kind, normalize);
    }
};

}  // namespace hoprag::cuda::detail
