// CPU matrix-vector products with a bf16 matrix: y [m, n] = x [m, k] W^T, W [n, k] stored as
// bfloat16 (core/dtype.hpp), x and y f32. Meant for the LM head of a decode step, where the
// matrix (vocab x hidden) is read once per token and memory bandwidth is the cost: bf16 halves the
// bytes of an f32 head. Each bf16 weight is widened to f32 exactly (a 16-bit shift) and multiplied
// with the f32 x, so the only error is the rounding of W to bf16; x is NOT rounded (this is why the
// kernel does not use `vdpbf16ps`, which would round x to bf16 too; the loop is bandwidth-bound,
// so the exact widening costs no measurable time). With AVX-512F (runtime-dispatched) 16 weights
// are widened per instruction; other machines take a scalar loop of the same arithmetic. Rows are
// split statically over the OpenMP threads; every row's sum is accumulated in a fixed order, so the
// result does not depend on the thread count. All m rows of x are applied to a W row while it is
// in cache.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hoprag/core/dtype.hpp"
#include "hoprag/core/error.hpp"
#include "hoprag/cpu/context.hpp"
#include "hoprag/cpu/parallel.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HOPRAG_BF16_GEMV_AVX512 1
#endif

namespace hoprag::cpu {

namespace detail {

/// Scalar y[i * n + r] for every i < m: the dot product of W row r with x row i.
inline void bf16_gemv_row_scalar(const bf16* w, const float* x, float* y, std::int64_t r, std::int64_t m, std::int64_t n, std::int64_t k) {
    const bf16* wr = w + r * k;
    for (std::int64_t i = 0; i < m; ++i) {
        const float* xi = x + i * k;
        float s = 0.0f;
        for (std::int64_t c = 0; c < k; ++c) s += wr[c].to_float() * xi[c];
        y[i * n + r] = s;
    }
}

#ifdef HOPRAG_BF16_GEMV_AVX512
/// 16 bf16 values at p widened to f32.
__attribute__((target("avx512f"))) inline __m512 bf16_load16(const bf16* p) {
    const __m512i v = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    return _mm512_castsi512_ps(_mm512_slli_epi32(v, 16));
}

/// AVX-512 y[i * n + r] for every i < m (two accumulators per x row; scalar tail for k % 16).
__attribute__((target("avx512f"))) inline void bf16_gemv_row_avx512(const bf16* w, const float* x, float* y, std::int64_t r, std::int64_t m,
                                                                     std::int64_t n, std::int64_t k) {
    const bf16* wr = w + r * k;
    const std::int64_t k32 = k / 32 * 32, k16 = k / 16 * 16;
    for (std::int64_t i = 0; i < m; ++i) {
        const float* xi = x + i * k;
        __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
        std::int64_t c = 0;
        for (; c < k32; c += 32) {
            a0 = _mm512_fmadd_ps(bf16_load16(wr + c), _mm512_loadu_ps(xi + c), a0);
            a1 = _mm512_fmadd_ps(bf16_load16(wr + c + 16), _mm512_loadu_ps(xi + c + 16), a1);
        }
        for (; c < k16; c += 16) a0 = _mm512_fmadd_ps(bf16_load16(wr + c), _mm512_loadu_ps(xi + c), a0);
        float s = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
        for (; c < k; ++c) s += wr[c].to_float() * xi[c];
        y[i * n + r] = s;
    }
}

inline bool bf16_gemv_has_avx512f() {
    static const bool yes = __builtin_cpu_supports("avx512f");
    return yes;
}
#endif

}  // namespace detail

/// A bf16 copy of f32 values (round to nearest even), e.g. of an LM head for bf16_gemv.
inline std::vector<bf16> to_bf16(const float* x, std::int64_t count) {
    std::vector<bf16> out(static_cast<std::size_t>(count));
    parallel_rows(count, [&](std::int64_t i) { out[static_cast<std::size_t>(i)] = bf16::from_float(x[i]); });
    return out;
}

/// y [m, n] = x [m, k] W^T with W [n, k] in bf16 (y is overwritten). m >= 0, n >= 0, k >= 0.
/// `force_scalar` selects the portable loop (tests compare both).
inline void bf16_gemv(context&, float* y, const float* x, const bf16* w, std::int64_t m, std::int64_t n, std::int64_t k,
                      bool force_scalar = false) {
    if (m < 0 || n < 0 || k < 0)
        throw shape_error("bf16_gemv: sizes must be >= 0, got m " + std::to_string(m) + ", n " + std::to_string(n) + ", k " + std::to_string(k));
#ifdef HOPRAG_BF16_GEMV_AVX512
    if (!force_scalar && detail::bf16_gemv_has_avx512f()) {
        parallel_rows(n, [&](std::int64_t r) { detail::bf16_gemv_row_avx512(w, x, y, r, m, n, k); });
        return;
    }
#endif
    (void)force_scalar;
    parallel_rows(n, [&](std::int64_t r) { detail::bf16_gemv_row_scalar(w, x, y, r, m, n, k); });
}

}  // namespace hoprag::cpu
