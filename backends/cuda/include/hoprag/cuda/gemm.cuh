// Element-wise kernels around the cuBLASLt GEMM (nvcc only): the k == 0 / alpha == 0 case and the
// bias fallback (C = beta * C + bias), and strided matrix conversion between C's type and an f32
// temporary for output types cuBLASLt cannot write directly. One thread per element of C.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "hoprag/core/dtype.hpp"

namespace hoprag::cuda::kernels {

/// Row-major index math shared by the kernels: element `i` of a batch x rows x cols grid.
struct matrix_index {
    std::int64_t b, r, c;
    HOPRAG_INLINE static matrix_index of(std::int64_t i, std::int64_t rows, std::int64_t cols) {
        return {i / (rows * cols), (i / cols) % rows, i % cols};
    }
};

/// C = beta * C + bias[col] over a strided batch of m x n matrices (C not read when beta == 0).
template <class T>
__global__ void gemm_scale_bias(T* c, std::int64_t batch, std::int64_t m, std::int64_t n, std::int64_t ldc,
                                std::int64_t stride_c, float beta, const float* bias) {
    const std::int64_t i = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= batch * m * n) return;
    const auto at = matrix_index::of(i, m, n);
    T* p = c + at.b * stride_c + at.r * ldc + at.c;
    const float old = beta != 0.0f ? beta * to_float(*p) : 0.0f;
    *p = from_float<T>(old + (bias ? bias[at.c] : 0.0f));
}

/// dst = src element-wise (with rounding to Dst) over a strided batch of m x n matrices.
template <class Src, class Dst>
__global__ void convert_matrix(const Src* src, std::int64_t src_ld, std::int64_t src_stride, Dst* dst, std::int64_t dst_ld,
                               std::int64_t dst_stride, std::int64_t batch, std::int64_t m, std::int64_t n) {
    const std::int64_t i = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i >= batch * m * n) return;
    const auto at = matrix_index::of(i, m, n);
    dst[at.b * dst_stride + at.r * dst_ld + at.c] = from_float<Dst>(to_float(src[at.b * src_stride + at.r * src_ld + at.c]));
}

}  // namespace hoprag::cuda::kernels
