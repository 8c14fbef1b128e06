// CUDA kernels (as launch functors) of softmax cross-entropy: one warp per row over the shared row
// bodies of hoprag/kernels/cross_entropy.hpp. nvcc only; included by src/cross_entropy.cu.
#pragma once

#include <cstdint>

#include "hoprag/cuda/launch.cuh"
#include "hoprag/kernels/cross_entropy.hpp"

namespace hoprag::cuda::detail {

struct cross_entropy_forward_fn {
    float* loss;
    float* lse;
    const float* logits;
    const std::int32_t* targets;
    std::int64_t vocab;
    std::int32_t ignore_index;
    __device__ void operator()(std::int64_t r, const warp_lanes& g) const {
        kernels::cross_entropy_forward_row(g, loss + r, lse + r, logits + r * vocab, targets[r], vocab, ignore_index);
    }
};

struct cross_entropy_backward_fn {
    float* dlogits;
    const float* logits;
    const float* lse;
    const std::int32_t* targets;
    float grad_scale;
    std::int64_t vocab;
    std::int32_t ignore_index;
    __device__ void operator()(std::int64_t r, const warp_lanes& g) const {
        kernels::cross_entropy_backward_row(g, dlogits + r * vocab, logits + r * vocab, lse[r], targets[r], grad_scale,
                                            vocab, ignore_index);
    }
};

}  // namespace hoprag::cuda::detail
