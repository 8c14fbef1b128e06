// Math helpers for the shared kernel bodies: a vectorisable f32 exp and loop pragmas. exp_f32 is
// branch-free arithmetic (Cody-Waite range reduction by ln 2, a degree-6 polynomial, scaling by
// 2^n through the exponent bits), so GCC vectorises loops that call it without -ffast-math, and the
// CUDA kernels run the very same arithmetic. HOPRAG_SIMD_SUM(v) / HOPRAG_SIMD_MAX(v) mark a loop as
// a SIMD reduction into v for OpenMP-enabled host compilers and expand to nothing elsewhere (nvcc
// device code, builds without OpenMP): only the order of the additions changes.
#pragma once

#include <cstdint>

#include "hoprag/core/config.hpp"
#include "hoprag/core/dtype.hpp"

#if defined(_OPENMP) && !defined(__CUDA_ARCH__)
#define HOPRAG_PRAGMA(x) _Pragma(#x)
#define HOPRAG_SIMD_SUM(v) HOPRAG_PRAGMA(omp simd reduction(+ : v))
#define HOPRAG_SIMD_MAX(v) HOPRAG_PRAGMA(omp simd reduction(max : v))
#else
#define HOPRAG_SIMD_SUM(v)
#define HOPRAG_SIMD_MAX(v)
#endif

namespace hoprag::kernels {

/// c ? a : b as a bit blend: GCC keeps a float op that only one ?: arm uses inside a branch (it
/// may trap) and then cannot vectorise the loop; a blend of two computed values has no branch.
HOPRAG_INLINE float select_f32(bool c, float a, float b) {
    const std::uint32_t m = 0u - static_cast<std::uint32_t>(c);
    return bits_float((float_bits(a) & m) | (float_bits(b) & ~m));
}

/// e^x in f32 with a relative error of about 2 ulp for x in [-87.3, 88.3]; 0 below that range,
/// 2^127-scaled (finite) above it. NaN in gives an unspecified finite or NaN result.
HOPRAG_INLINE float exp_f32(float x) {
    const float lo = -87.3f, hi = 88.3f;
    const float x_hi = select_f32(x > hi, hi, x);
    const float xc = select_f32(x_hi < lo, lo, x_hi);
    // n = round(x / ln 2) with the 1.5 * 2^23 trick: the sum's low mantissa bits hold n.
    const float shifter = 12582912.0f;
    const float t = xc * 1.44269504088896341f + shifter;
    const float n = t - shifter;
    const std::int32_t ni = static_cast<std::int32_t>(float_bits(t)) - 0x4B400000;
    // r = x - n ln 2 in two pieces (ln2_hi has few mantissa bits, so n * ln2_hi is exact).
    const float r = (xc - n * 0.693359375f) - n * -2.12194440e-4f;
    // exp(r) on |r| <= ln2 / 2: Cephes expf minimax coefficients.
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    const float scale = bits_float(static_cast<std::uint32_t>(ni + 127) << 23);
    return select_f32(x < lo, 0.0f, p * scale);
}

}  // namespace hoprag::kernels
