// CUDA kernels of the optimiser ops (nvcc only; included from backends/cuda/src/adamw.cu). The
// AdamW kernel calls the same hoprag::train::adamw_element as the CPU loop; the sum of squares is a
// two-pass reduction (fixed grid of per-block double partials, then one block adds them in a
// fixed tree order) so its result does not depend on scheduling.
#pragma once

#include <cstdint>
#include <type_traits>

#include "hoprag/core/dtype.hpp"
#include "hoprag/train/adamw.hpp"

namespace hoprag::cuda::kernels {

constexpr unsigned reduce_threads = 256;   // threads per block of both reduction passes
constexpr unsigned reduce_max_blocks = 1024;

/// One thread per element (grid-stride): AdamW update, optional low-precision copy of w.
template <class Low>
__global__ void adamw(float* __restrict__ w, float* __restrict__ m, float* __restrict__ v, const float* __restrict__ g,
                      Low* __restrict__ low, std::int64_t n, train::adamw_step s) {
    for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < n;
         i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
        const float nw = train::adamw_element(w[i], m[i], v[i], g[i], s);
        if constexpr (!std::is_same_v<Low, void>) low[i] = from_float<Low>(nw);
    }
}

/// Tree sum of `reduce_threads` doubles in shared memory; the total ends in buf[0].
__device__ inline void block_tree_sum(double* buf) {
    for (unsigned stride = reduce_threads / 2; stride > 0; stride >>= 1) {
        __syncthreads();
        if (threadIdx.x < stride) buf[threadIdx.x] += buf[threadIdx.x + stride];
    }
    __syncthreads();
}

/// Pass 1: partial[blockIdx.x] = sum of x[i]^2 over this block's grid-stride elements.
__global__ void sum_squares_partial(const float* __restrict__ x, std::int64_t n, double* __restrict__ partial) {
    __shared__ double buf[reduce_threads];
    double acc = 0.0;
    for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(reduce_threads) + threadIdx.x; i < n;
         i += static_cast<std::int64_t>(gridDim.x) * reduce_threads) {
        const double xi = x[i];
        acc += xi * xi;
    }
    buf[threadIdx.x] = acc;
    block_tree_sum(buf);
    if (threadIdx.x == 0) partial[blockIdx.x] = buf[0];
}

/// Pass 2 (one block): out[0] = sum of partial[0, count).
__global__ void sum_partials(const double* __restrict__ partial, unsigned count, double* __restrict__ out) {
    __shared__ double buf[reduce_threads];
    double acc = 0.0;
    for (unsigned i = threadIdx.x; i < count; i += reduce_threads) acc += partial[i];
    buf[threadIdx.x] = acc;
    block_tree_sum(buf);
    if (threadIdx.x == 0) out[0] = buf[0];
}

}  // namespace hoprag::cuda::kernels
