// CPU elementwise ops: add, scale, dtype cast, column sums (bias gradients) and the activations
// GELU, SiLU, SwiGLU forward and backward. Each loops over hoprag/kernels/elementwise.hpp, the
// arithmetic the CUDA backend runs too. Sizes are element counts; outputs may alias inputs.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

#include "hoprag/backend/ops.hpp"
#include "hoprag/core/error.hpp"
#include "hoprag/cpu/context.hpp"
#include "hoprag/cpu/parallel.hpp"
#include "hoprag/kernels/checks.hpp"
#include "hoprag/kernels/elementwise.hpp"

namespace hoprag::cpu {

namespace detail {

/// x[c] += bias[c], c < n (multiversioned like gelu_erf_block).
HOPRAG_CPU_CLONES inline void add_bias_row(float* x, const float* bias, std::int64_t n) {
#pragma omp simd
    for (std::int64_t c = 0; c < n; ++c) x[c] += bias[c];
}

/// out[i] = GELU_erf(x[i]), i < n: one thread's block, multiversioned (AVX-512 / AVX2 / baseline).
HOPRAG_CPU_CLONES inline void gelu_erf_block(float* out, const float* x, std::int64_t n) {
#pragma omp simd
    for (std::int64_t i = 0; i < n; ++i) out[i] = kernels::gelu(x[i], gelu_kind::erf);
}

/// out[c] += sum over r (in row order) of term(r, c), for c < cols: column blocks in parallel,
/// each summed row by row, so the result does not depend on the thread count.
template <class Term>
void accumulate_columns(float* out, std::int64_t rows, std::int64_t cols, Term&& term) {
    constexpr std::int64_t block = 64;
    parallel_rows((cols + block - 1) / block, [&](std::int64_t cb) {
        const std::int64_t c0 = cb * block, c1 = std::min(cols, c0 + block);
        float acc[block] = {};
        for (std::int64_t r = 0; r < rows; ++r)
            for (std::int64_t c = c0; c < c1; ++c) acc[c - c0] += term(r, c);
        for (std::int64_t c = c0; c < c1; ++c) out[c] += acc[c - c0];
    });
}

template <class To, class From>
void cast_typed(void* out, const void* x, std::int64_t n) {
    auto* o = static_cast<To*>(out);
    const auto* in = static_cast<const From*>(x);
    parallel_rows(n, [&](std::int64_t i) { kernels::cast_element(o, in, i); }, 1);
}

template <class From>
void cast_from(void* out, dtype to, const void* x, std::int64_t n) {
    switch (to) {
        case dtype::f32:
            return cast_typed<float, From>(out, x, n);
        case dtype::bf16:
            return cast_typed<bf16, From>(out, x, n);
        case dtype::f16:
            return cast_typed<f16, From>(out, x, n);
        default:
            break;
    }
    throw config_error("cast: target type must be f32, bf16 or f16, got " + std::string(dtype_name(to)));
}

}  // namespace detail

/// out[i] = x[i] + y[i] for i < n.
inline void add(context&, float* out, const float* x, const float* y, std::int64_t n) {
    kernels::require_nonnegative("add", "n", n);
    parallel_rows(n, [&](std::int64_t i) { out[i] = kernels::add(x[i], y[i]); }, 1);
}

/// out[i] = s * x[i] for i < n.
inline void scale(context&, float* out, const float* x, float s, std::int64_t n) {
    kernels::require_nonnegative("scale", "n", n);
    parallel_rows(n, [&](std::int64_t i) { out[i] = kernels::scale(x[i], s); }, 1);
}

/// x[i] = 0 for i < n (gradient buffers before an accumulation window).
inline void zero_fill(context&, float* x, std::int64_t n) {
    if (n > 0) std::memset(x, 0, static_cast<std::size_t>(n) * sizeof(float));
}

/// n elements of type `from` at x converted to type `to` at out (f32, bf16, f16; nearest even).
/// Throws config_error for other types. out must not overlap x unless the types have equal size.
inline void cast(context&, void* out, dtype to, const void* x, dtype from, std::int64_t n) {
    kernels::require_nonnegative("cast", "n", n);
    switch (from) {
        case dtype::f32:
            return detail::cast_from<float>(out, to, x, n);
        case dtype::bf16:
            return detail::cast_from<bf16>(out, to, x, n);
        case dtype::f16:
            return detail::cast_from<f16>(out, to, x, n);
        default:
            break;
    }
    throw config_error("cast: source type must be f32, bf16 or f16, got " + std::string(dtype_name(from)));
}

/// out[c] += sum_r x[r, c] for x [rows, cols] (bias gradients; accumulates, deterministic).
inline void sum_rows(context&, float* out, const float* x, std::int64_t rows, std::int64_t cols) {
    kernels::require_nonnegative("sum_rows", "rows", rows);
    kernels::require_nonnegative("sum_rows", "cols", cols);
    detail::accumulate_columns(out, rows, cols, [&](std::int64_t r, std::int64_t c) { return x[r * cols + c]; });
}

/// out[i] = GELU(x[i]) (exact erf form or tanh approximation).
inline void gelu_forward(context&, float* out, const float* x, std::int64_t n, gelu_kind kind) {
    kernels::require_nonnegative("gelu_forward", "n", n);
    if (kind == gelu_kind::erf) {  // the BERT FFN's activation: vectorised blocks (normal_cdf is branch-free)
        parallel_blocks(n, 8192, [&](std::int64_t b, std::int64_t e) { detail::gelu_erf_block(out + b, x + b, e - b); });
        return;
    }
    parallel_rows(n, [&](std::int64_t i) { out[i] = kernels::gelu(x[i], kind); }, 1);
}

/// x[r, c] += bias[c] (stored: x keeps the pre-activation), then out[r, c] = GELU(x[r, c]), for
/// x, out [rows, cols] (bias nullptr = none). One pass for a linear layer's bias and activation
/// when the GEMM did not add the bias (the BERT FFN on the CPU); out must not alias x.
inline void bias_gelu_forward(context&, float* out, float* x, const float* bias, std::int64_t rows, std::int64_t cols,
                              gelu_kind kind) {
    kernels::require_nonnegative("bias_gelu_forward", "rows", rows);
    kernels::require_nonnegative("bias_gelu_forward", "cols", cols);
    kernels::require_pointers("bias_gelu_forward", rows * cols, {{"out", out}, {"x", x}});
    if (kind != gelu_kind::erf) {
        parallel_rows(rows, [&](std::int64_t r) {
            for (std::int64_t c = 0; c < cols; ++c) {
                float& v = x[r * cols + c];
                if (bias) v += bias[c];
                out[r * cols + c] = kernels::gelu(v, kind);
            }
        });
        return;
    }
    parallel_blocks(rows, 8, [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t r = b; r < e; ++r) {
            if (bias) detail::add_bias_row(x + r * cols, bias, cols);
            detail::gelu_erf_block(out + r * cols, x + r * cols, cols);
        }
    });
}

/// dx[i] = dout[i] * GELU'(x[i]).
inline void gelu_backward(context&, float* dx, const float* dout, const float* x, std::int64_t n, gelu_kind kind) {
    kernels::require_nonnegative("gelu_backward", "n", n);
    parallel_rows(n, [&](std::int64_t i) { dx[i] = dout[i] * kernels::gelu_grad(x[i], kind); }, 1);
}

/// out[i] = x[i] * sigmoid(x[i]).
inline void silu_forward(context&, float* out, const float* x, std::int64_t n) {
    kernels::require_nonnegative("silu_forward", "n", n);
    parallel_rows(n, [&](std::int64_t i) { out[i] = kernels::silu(x[i]); }, 1);
}

/// dx[i] = dout[i] * SiLU'(x[i]).
inline void silu_backward(context&, float* dx, const float* dout, const float* x, std::int64_t n) {
    kernels::require_nonnegative("silu_backward", "n", n);
    parallel_rows(n, [&](std::int64_t i) { dx[i] = dout[i] * kernels::silu_grad(x[i]); }, 1);
}

/// out[i] = silu(gate[i]) * up[i].
inline void swiglu_forward(context&, float* out, const float* gate, const float* up, std::int64_t n) {
    kernels::require_nonnegative("swiglu_forward", "n", n);
    parallel_rows(n, [&](std::int64_t i) { out[i] = kernels::swiglu(gate[i], up[i]); }, 1);
}

/// dgate[i] = dout[i] * up[i] * silu'(gate[i]), dup[i] = dout[i] * silu(gate[i]) (both written).
inline void swiglu_backward(context&, float* dgate, float* dup, const float* dout, const float* gate, const float* up,
                            std::int64_t n) {
    kernels::require_nonnegative("swiglu_backward", "n", n);
    parallel_rows(n, [&](std::int64_t i) {
        float dg, du;
        kernels::swiglu_grad(dout[i], gate[i], up[i], dg, du);
        dgate[i] = dg;
        dup[i] = du;
    });
}

}  // namespace hoprag::cpu
