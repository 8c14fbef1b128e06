// Per-element arithmetic of the elementwise ops, written once for the CPU loop and the CUDA
// kernels (DESIGN rule 2): add, scale, dtype casts, and the activations GELU (exact erf form and
// tanh approximation), SiLU and SwiGLU with their derivatives. Every function is a pure map of
// scalars; the backends decide how indices are distributed. Math uses exp_f32 and normal_cdf (both
// branch-free, so host loops vectorise) and the C float functions ::expf and ::tanhf, which exist
// with the same names in host and device code.
#pragma once

#include <cmath>
#include <cstdint>

#include "hoprag/backend/ops.hpp"
#include "hoprag/core/config.hpp"
#include "hoprag/core/dtype.hpp"
#include "hoprag/kernels/math.hpp"

namespace hoprag::kernels {

/// sqrt(2 / pi), 1 / sqrt(2) and 1 / sqrt(2 pi), the GELU constants.
inline constexpr float sqrt_2_over_pi = 0.7978845608028654f;
inline constexpr float inv_sqrt_2 = 0.7071067811865476f;
inline constexpr float inv_sqrt_2pi = 0.3989422804014327f;
/// The cubic coefficient of the tanh approximation of GELU (Hendrycks & Gimpel).
inline constexpr float gelu_tanh_coeff = 0.044715f;

HOPRAG_INLINE float add(float x, float y) {
    return x + y;
}
HOPRAG_INLINE float scale(float x, float s) {
    return x * s;
}

/// Element `i` of a cast from storage type From to storage type To (round to nearest even).
template <class To, class From>
HOPRAG_INLINE void cast_element(To* out, const From* x, std::int64_t i) {
    out[i] = from_float<To>(to_float(x[i]));
}

/// Logistic sigmoid 1 / (1 + e^-x); saturates to exactly 0 or 1 without overflow traps.
HOPRAG_INLINE float sigmoid(float x) {
    return 1.0f / (1.0f + ::expf(-x));
}

/// Phi(x), the standard normal CDF, as 1 - erfc(z)/2 or erfc(z)/2 with z = |x|/sqrt(2) and
/// erfc by the Chebyshev fit of Numerical Recipes (erfcc: fractional error < 1.2e-7 for z >= 0)
/// over exp_f32: branch-free, so host loops vectorise (libm's erff does not), and the tail x < 0
/// keeps its relative accuracy.
HOPRAG_INLINE float normal_cdf(float x) {
    const float z = ::fabsf(x) * inv_sqrt_2;
    const float t = 1.0f / (1.0f + 0.5f * z);
    float p = 0.17087277f;
    p = p * t - 0.82215223f;
    p = p * t + 1.48851587f;
    p = p * t - 1.13520398f;
    p = p * t + 0.27886807f;
    p = p * t - 0.18628806f;
    p = p * t + 0.09678418f;
    p = p * t + 0.37409196f;
    p = p * t + 1.00002368f;
    p = p * t - 1.26551223f;
    const float half_erfc = 0.5f * t * exp_f32(p - z * z);
    return select_f32(x < 0.0f, half_erfc, 1.0f - half_erfc);
}

/// GELU(x) = x * Phi(x): `erf` is the exact form (Phi to ~1e-7, see normal_cdf), `tanh` is
/// 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
HOPRAG_INLINE float gelu(float x, gelu_kind kind) {
    if (kind == gelu_kind::erf) return x * normal_cdf(x);
    const float u = sqrt_2_over_pi * (x + gelu_tanh_coeff * x * x * x);
    return 0.5f * x * (1.0f + ::tanhf(u));
}

/// d GELU(x) / dx for the same `kind`.
HOPRAG_INLINE float gelu_grad(float x, gelu_kind kind) {
    if (kind == gelu_kind::erf) {
        const float cdf = normal_cdf(x);
        const float pdf = inv_sqrt_2pi * exp_f32(-0.5f * x * x);
        return cdf + x * pdf;
    }
    const float x2 = x * x;
    const float t = ::tanhf(sqrt_2_over_pi * (x + gelu_tanh_coeff * x2 * x));
    const float du = sqrt_2_over_pi * (1.0f + 3.0f * gelu_tanh_coeff * x2);
    return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * du;
}

/// SiLU(x) = x * sigmoid(x) and its derivative sigmoid(x) (1 + x (1 - sigmoid(x))).
HOPRAG_INLINE float silu(float x) {
    return x * sigmoid(x);
}
HOPRAG_INLINE float silu_grad(float x) {
    const float s = sigmoid(x);
    return s * (1.0f + x * (1.0f - s));
}

/// SwiGLU: out = silu(gate) * up.
HOPRAG_INLINE float swiglu(float gate, float up) {
    return silu(gate) * up;
}
/// Gradients of SwiGLU given dout: dgate = dout * up * silu'(gate), dup = dout * silu(gate).
HOPRAG_INLINE void swiglu_grad(float dout, float gate, float up, float& dgate, float& dup) {
    dgate = dout * up * silu_grad(gate);
    dup = dout * silu(gate);
}

}  // namespace hoprag::kernels
