// CUDA kernels (as launch functors) of LayerNorm and RMSNorm: one warp per row over the shared row
// bodies of hoprag/kernels/norms.hpp (detail::launch_warp_rows), and per-column parameter-gradient
// terms summed by detail::accumulate_columns_fn. nvcc only; included by backends/cuda/src/norms.cu.
#pragma once

#include <cstdint>

#include "hoprag/cuda/elementwise.cuh"
#include "hoprag/cuda/launch.cuh"
#include "hoprag/kernels/norms.hpp"

namespace hoprag::cuda::detail {

struct layernorm_forward_fn {
    float* out;
    float* mean;
    float* rstd;
    const float* x;
    const float* w;
    const float* b;
    std::int64_t cols;
    float eps;
    __device__ void operator()(std::int64_t r, const warp_lanes& g) const {
        kernels::layernorm_forward_row(g, out + r * cols, mean + r, rstd + r, x + r * cols, w, b, cols, eps);
    }
};

struct layernorm_backward_fn {
    float* dx;
    const float* dout;
    const float* x;
    const float* w;
    const float* mean;
    const float* rstd;
    std::int64_t cols;
    __device__ void operator()(std::int64_t r, const warp_lanes& g) const {
        kernels::layernorm_backward_row(g, dx + r * cols, dout + r * cols, x + r * cols, w, mean[r], rstd[r], cols);
    }
};

struct layernorm_dw_term_fn {
    const float* dout;
    const float* x;
    const float* mean;
    const float* rstd;
    std::int64_t cols;
    __device__ float operator()(std::int64_t r, std::int64_t c) const {
        return kernels::layernorm_dw_term(dout[r * cols + c], x[r * cols + c], mean[r], rstd[r]);
    }
};

struct rmsnorm_forward_fn {
    float* out;
    float* rstd;
    const float* x;
    const float* w;
    std::int64_t cols;
    float eps;
    __device__ void operator()(std::int64_t r, const warp_lanes& g) const {
        kernels::rmsnorm_forward_row(g, out + r * cols, rstd + r, x + r * cols, w, cols, eps);
    }
};

struct rmsnorm_backward_fn {
    float* dx;
    const float* dout;
    const float* x;
    const float* w;
    const float* rstd;
    std::int64_t cols;
    __device__ void operator()(std::int64_t r, const warp_lanes& g) const {
        kernels::rmsnorm_backward_row(g, dx + r * cols, dout + r * cols, x + r * cols, w, rstd[r], cols);
    }
};

struct rmsnorm_dw_term_fn {
    const float* dout;
    const float* x;
    const float* rstd;
    std::int64_t cols;
    __device__ float operator()(std::int64_t r, std::int64_t c) const {
        return kernels::rmsnorm_dw_term(dout[r * cols + c], x[r * cols + c], rstd[r]);
    }
};

}  // namespace hoprag::cuda::detail
