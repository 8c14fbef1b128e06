// CPU NF4 matrix-vector product for decode steps: y [n] = W x (+ beta * y) with W an NF4 matrix
// [n, k] read straight from its 4-bit codes — no f32 copy of W, not even a tile — so a one-token
// decode streams ~4.1 bits per weight from memory instead of 32. Each 64-weight block is decoded
// in registers: with AVX-512 the 16 code values sit in one zmm register and `vpermps` maps 16
// nibbles to their values at once; the block's dot product with x is scaled by the block's absmax
// (double-quantised, quant/nf4.hpp) once. Rows are split statically over the OpenMP threads, so the
// result does not depend on the thread count. Machines without AVX-512 take a scalar loop of the
// same structure. Needs k % 64 == 0 (blocks never straddle rows); nf4_gemm checks and otherwise
// keeps its tiled dequantise-GEMM.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hoprag/core/error.hpp"
#include "hoprag/cpu/context.hpp"
#include "hoprag/cpu/parallel.hpp"
#include "hoprag/quant/nf4.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HOPRAG_NF4_GEMV_AVX512 1
#endif

namespace hoprag::cpu {

namespace detail {

/// x [k] rearranged per 32-weight half block as [16 even-index values][16 odd-index values], the
/// order in which a half block's 16 code bytes yield their high and low nibbles.
inline void nf4_split_even_odd(const float* x, std::int64_t k, float* out) {
    for (std::int64_t h = 0; h < k; h += 32)
        for (int i = 0; i < 16; ++i) {
            out[h + i] = x[h + 2 * i];
            out[h + 16 + i] = x[h + 2 * i + 1];
        }
}

/// Scalar y[r] (the structure of the AVX-512 kernel).
inline void nf4_gemv_rows_scalar(const quant::nf4_view& w, const float* x, float* y, std::int64_t r, float beta) {
    const std::int64_t blocks = w.cols / quant::nf4_block;
    float acc = 0.0f;
    for (std::int64_t j = 0; j < blocks; ++j) {
        const std::int64_t b = r * blocks + j;
        const std::uint8_t* c = w.codes + b * (quant::nf4_block / 2);
        const float* xb = x + j * quant::nf4_block;
        float s = 0.0f;
        for (int i = 0; i < quant::nf4_block / 2; ++i)
            s += quant::nf4_code(c[i] >> 4) * xb[2 * i] + quant::nf4_code(c[i] & 15) * xb[2 * i + 1];
        acc += s * quant::nf4_absmax(w.qabsmax, w.scale2, w.offset, b);
    }
    y[r] = beta == 0.0f ? acc : acc + beta * y[r];
}

#ifdef HOPRAG_NF4_GEMV_AVX512
/// AVX-512 y[r]; xs is x split by nf4_split_even_odd.
__attribute__((target("avx512f"))) inline void nf4_gemv_row_avx512(const quant::nf4_view& w, const float* xs, float* y, std::int64_t r,
                                                                    float beta) {
    alignas(64) float table[16];
    for (int i = 0; i < 16; ++i) table[i] = quant::nf4_code(i);
    const __m512 codes = _mm512_load_ps(table);
    const __m512i low4 = _mm512_set1_epi32(15);
    const std::int64_t blocks = w.cols / quant::nf4_block;
    __m512 acc = _mm512_setzero_ps();
    for (std::int64_t j = 0; j < blocks; ++j) {
        const std::int64_t b = r * blocks + j;
        const std::uint8_t* c = w.codes + b * (quant::nf4_block / 2);
        const float* xb = xs + j * quant::nf4_block;
        __m512 s = _mm512_setzero_ps();
        for (int h = 0; h < 2; ++h) {
            const __m512i v = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(c + 16 * h)));
            const __m512 hi = _mm512_permutexvar_ps(_mm512_srli_epi32(v, 4), codes);  // even-index weights
            const __m512 lo = _mm512_permutexvar_ps(_mm512_and_si512(v, low4), codes);  // odd-index weights
            s = _mm512_fmadd_ps(hi, _mm512_loadu_ps(xb + 32 * h), s);
            s = _mm512_fmadd_ps(lo, _mm512_loadu_ps(xb + 32 * h + 16), s);
        }
        acc = _mm512_fmadd_ps(s, _mm512_set1_ps(quant::nf4_absmax(w.qabsmax, w.scale2, w.offset, b)), acc);
    }
    const float sum = _mm512_reduce_add_ps(acc);
    y[r] = beta == 0.0f ? sum : sum + beta * y[r];
}

inline bool has_avx512f() {
    static const bool yes = __builtin_cpu_supports("avx512f");
    return yes;
}
#endif

}  // namespace detail

/// y [m, w.rows] = x [m, w.cols] dequant(w)^T + beta * y, one matrix-vector product per row of x
/// (meant for small m: decode steps). Requires w.cols % 64 == 0; throws shape_error otherwise.
/// `force_scalar` selects the portable loop (tests compare both).
inline void nf4_gemv(context&, float* y, const float* x, const quant::nf4_view& w, std::int64_t m, float beta = 0.0f,
                     bool force_scalar = false) {
    if (w.cols % quant::nf4_block != 0)
        throw shape_error("nf4_gemv: the matrix has " + std::to_string(w.cols) + " columns, not a multiple of the NF4 block size 64");
    if (m < 0) throw shape_error("nf4_gemv: m must be >= 0, got " + std::to_string(m));
#ifdef HOPRAG_NF4_GEMV_AVX512
    if (!force_scalar && detail::has_avx512f()) {
        std::vector<float> xs(static_cast<std::size_t>(w.cols));
        for (std::int64_t i = 0; i < m; ++i) {
            detail::nf4_split_even_odd(x + i * w.cols, w.cols, xs.data());
            float* yi = y + i * w.rows;
            const float* xp = xs.data();
            parallel_rows(w.rows, [&](std::int64_t r) { detail::nf4_gemv_row_avx512(w, xp, yi, r, beta); });
        }
        return;
    }
#endif
    for (std::int64_t i = 0; i < m; ++i) {
        float* yi = y + i * w.rows;
        const float* xi = x + i * w.cols;
        parallel_rows(w.rows, [&](std::int64_t r) { detail::nf4_gemv_rows_scalar(w, xi, yi, r, beta); });
    }
}

}  // namespace hoprag::cpu
