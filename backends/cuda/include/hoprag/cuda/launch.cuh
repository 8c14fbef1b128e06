// Launch helpers of the CUDA backend (nvcc only): run a functor over elements (grid-stride loop,
// one thread per element) or over rows (one warp per row, with `warp_lanes` as the row body's
// Lanes: its reductions are warp shuffles; see hoprag/kernels/lanes.hpp). Functors are plain structs
// with a __device__ (or HOPRAG_HOST_DEVICE) call operator, so no extended-lambda flag is needed.
// Every launch is on the context's stream and checked with HOPRAG_CUDA_CHECK_LAUNCH.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "hoprag/cuda/check.cuh"
#include "hoprag/cuda/context.hpp"

namespace hoprag::cuda::detail {

/// Lanes of one warp sharing a row (all 32 lanes of the warp must call sum/max together).
struct warp_lanes {
    int lane_;
    __device__ int lane() const { return lane_; }
    __device__ int count() const { return 32; }
    __device__ float sum(float v) const {
        for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
        return v;
    }
    __device__ float max(float v) const {
        for (int off = 16; off > 0; off >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, off));
        return v;
    }
    /// Sum of f(c) over c < n: each lane sums its strided share, then the warp reduces.
    template <class F>
    __device__ float sum_over(std::int64_t n, F&& f) const {
        float s = 0.0f;
        for (std::int64_t c = lane_; c < n; c += 32) s += f(c);
        return sum(s);
    }
    /// Maximum of f(c) over c < n (-inf for n == 0).
    template <class F>
    __device__ float max_over(std::int64_t n, F&& f) const {
        float m = -INFINITY;
        for (std::int64_t c = lane_; c < n; c += 32) m = fmaxf(m, f(c));
        return max(m);
    }
};

template <class F>
__global__ void for_each_kernel(std::int64_t n, F f) {
    const std::int64_t stride = static_cast<std::int64_t>(blockDim.x) * gridDim.x;
    for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) f(i);
}

template <class F>
__global__ void warp_rows_kernel(std::int64_t rows, F f) {
    const std::int64_t warps = blockDim.x / 32;
    const std::int64_t stride = warps * gridDim.x;
    const warp_lanes lanes{static_cast<int>(threadIdx.x & 31u)};
    // the row index is the same for all lanes of a warp, so the loop is warp-uniform
    for (std::int64_t r = static_cast<std::int64_t>(blockIdx.x) * warps + threadIdx.x / 32; r < rows; r += stride)
        f(r, lanes);
}

/// f(i) for i in [0, n) on ctx's stream; nothing when n <= 0.
template <class F>
void launch_elements(context& ctx, std::int64_t n, const F& f) {
    if (n <= 0) return;
    constexpr unsigned threads = 256;
    const std::int64_t blocks = std::min<std::int64_t>((n + threads - 1) / threads, std::int64_t{1} << 20);
    for_each_kernel<<<static_cast<unsigned>(blocks), threads, 0, HOPRAG_STREAM(ctx)>>>(n, f);
    HOPRAG_CUDA_CHECK_LAUNCH();
}

/// f(r, warp_lanes) for r in [0, rows), one warp per row, on ctx's stream; nothing when rows <= 0.
template <class F>
void launch_warp_rows(context& ctx, std::int64_t rows, const F& f) {
    if (rows <= 0) return;
    constexpr unsigned threads = 256, warps = threads / 32;
    const std::int64_t blocks = std::min<std::int64_t>((rows + warps - 1) / warps, std::int64_t{1} << 20);
    warp_rows_kernel<<<static_cast<unsigned>(blocks), threads, 0, HOPRAG_STREAM(ctx)>>>(rows, f);
    HOPRAG_CUDA_CHECK_LAUNCH();
}

}  // namespace hoprag::cuda::detail
