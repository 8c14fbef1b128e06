// CUDA kernels of attention (nvcc only): one thread per (batch, head, query) row for forward and
// dq, one per (batch, kv head, key) row for dk/dv, over the shared bodies in
// hoprag/kernels/attention.hpp. Included only by backends/cuda/src/attention.cu.
#pragma once

#include <cstdint>

#include "hoprag/kernels/attention.hpp"

namespace hoprag::cuda::detail {

static __global__ void attention_forward_kernel(attention_desc d, float* out, float* probs, const float* q, const float* k,
                                                const float* v) {
    const std::int64_t r = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (r >= d.batch * d.n_heads * d.q_len) return;
    const std::int64_t i = r % d.q_len, h = (r / d.q_len) % d.n_heads, b = r / (d.q_len * d.n_heads);
    kernels::attention_row_forward(d, b, h, i, out, probs, q, k, v);
}

static __global__ void attention_backward_query_kernel(attention_desc d, float* dq, float* delta, const float* dout,
                                                       const float* k, const float* v, const float* probs) {
    const std::int64_t r = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (r >= d.batch * d.n_heads * d.q_len) return;
    const std::int64_t i = r % d.q_len, h = (r / d.q_len) % d.n_heads, b = r / (d.q_len * d.n_heads);
    delta[r] = kernels::attention_row_backward_query(d, b, h, i, dq, dout, k, v, probs);
}

static __global__ void attention_backward_key_kernel(attention_desc d, float* dk, float* dv, const float* dout,
                                                     const float* q, const float* v, const float* probs,
                                                     const float* delta) {
    const std::int64_t r = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (r >= d.batch * d.n_kv_heads * d.kv_len) return;
    const std::int64_t kvh = r % d.n_kv_heads, j = (r / d.n_kv_heads) % d.kv_len, b = r / (d.n_kv_heads * d.kv_len);
    kernels::attention_key_backward(d, b, kvh, j, dk, dv, dout, q, v, probs, delta);
}

}  // namespace hoprag::cuda::detail
