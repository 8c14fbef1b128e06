// CUDA kernels (as launch functors) of the embedding lookup (one thread per output element over
// hoprag/kernels/embedding.hpp) and its scatter-add gradient (one thread per dout element,
// atomicAdd). nvcc only; included by backends/cuda/src/embedding.cu.
#pragma once

#include <cstdint>

#include "hoprag/kernels/embedding.hpp"

namespace hoprag::cuda::detail {

struct embedding_forward_fn {
    float* out;
    const std::int32_t* ids;
    const float* table;
    std::int64_t dim, vocab;
    __device__ void operator()(std::int64_t e) const {
        kernels::embedding_forward_element(out, ids, table, e, dim, vocab);
    }
};

struct embedding_backward_fn {
    float* dtable;
    const std::int32_t* ids;
    const float* dout;
    std::int64_t dim, vocab;
    __device__ void operator()(std::int64_t e) const {
        const std::int64_t i = e / dim, d = e - i * dim;
        const std::int32_t id = ids[i];
        if (kernels::embedding_id_valid(id, vocab))
            atomicAdd(dtable + static_cast<std::int64_t>(id) * dim + d, dout[e]);
    }
};

}  // namespace hoprag::cuda::detail
