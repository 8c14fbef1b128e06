// CUDA kernels (as launch functors) of the elementwise ops, over the shared bodies in
// hoprag/kernels/elementwise.hpp; one thread per element via detail::launch_elements, and one
// thread per column for column sums. nvcc only; included by backends/cuda/src/*.cu.
#pragma once

#include <cstdint>

#include "hoprag/kernels/elementwise.hpp"

namespace hoprag::cuda::detail {

struct add_fn {
    float* out;
    const float* x;
    const float* y;
    __device__ void operator()(std::int64_t i) const { out[i] = kernels::add(x[i], y[i]); }
};

struct scale_fn {
    float* out;
    const float* x;
    float s;
    __device__ void operator()(std::int64_t i) const { out[i] = kernels::scale(x[i], s); }
};

template <class To, class From>
struct cast_fn {
    To* out;
    const From* x;
    __device__ void operator()(std::int64_t i) const { kernels::cast_element(out, x, i); }
};

/// out[c] += sum_r term(r, c), one thread per column, rows in order (deterministic).
template <class Term>
struct accumulate_columns_fn {
    float* out;
    std::int64_t rows, cols;
    Term term;
    __device__ void operator()(std::int64_t c) const {
        float acc = 0.0f;
        for (std::int64_t r = 0; r < rows; ++r) acc += term(r, c);
        out[c] += acc;
    }
};

struct matrix_term {
    const float* x;
    std::int64_t cols;
    __device__ float operator()(std::int64_t r, std::int64_t c) const { return x[r * cols + c]; }
};

struct gelu_forward_fn {
    float* out;
    const float* x;
    gelu_kind kind;
    __device__ void operator()(std::int64_t i) const { out[i] = kernels::gelu(x[i], kind); }
};

struct gelu_backward_fn {
    float* dx;
    const float* dout;
    const float* x;
    gelu_kind kind;
    __device__ void operator()(std::int64_t i) const { dx[i] = dout[i] * kernels::gelu_grad(x[i], kind); }
};

struct silu_forward_fn {
    float* out;
    const float* x;
    __device__ void operator()(std::int64_t i) const { out[i] = kernels::silu(x[i]); }
};

struct silu_backward_fn {
    float* dx;
    const float* dout;
    const float* x;
    __device__ void operator()(std::int64_t i) const { dx[i] = dout[i] * kernels::silu_grad(x[i]); }
};

struct swiglu_forward_fn {
    float* out;
    const float* gate;
    const float* up;
    __device__ void operator()(std::int64_t i) const { out[i] = kernels::swiglu(gate[i], up[i]); }
};

struct swiglu_backward_fn {
    float* dgate;
    float* dup;
    const float* dout;
    const float* gate;
    const float* up;
    __device__ void operator()(std::int64_t i) const {
        float dg, du;
        kernels::swiglu_grad(dout[i], gate[i], up[i], dg, du);
        dgate[i] = dg;
        dup[i] = du;
    }
};

}  // namespace hoprag::cuda::detail
