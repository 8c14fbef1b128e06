// GEMMs of f32 operands whose products run in a compute type (mixed precision by profile, see
// backend/profile.hpp): f32 multiplies as stored; bf16 and f16 round A and B to 16 bits in
// backend scratch and run the backend GEMM on 16-bit inputs with f32 accumulation into an f32 C
// (tensor cores on a GPU). Activations, gradients and trainable weights stay f32 in memory; only
// the GEMM inputs are rounded. Backend-generic: allocate, cast and gemm are found by
// argument-dependent lookup on the context.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "hoprag/backend/buffer.hpp"
#include "hoprag/backend/ops.hpp"
#include "hoprag/core/dtype.hpp"
#include "hoprag/core/error.hpp"

namespace hoprag {

/// Throws config_error unless t is a GEMM compute type (f32, bf16 or f16).
inline void check_compute_type(dtype t, const char* who) {
    if (t != dtype::f32 && t != dtype::bf16 && t != dtype::f16)
        throw config_error(std::string(who) + ": compute type must be f32, bf16 or f16, got " + std::string(dtype_name(t)));
}

/// The compute type of a precision name: "f32", "bf16" or "f16".
inline dtype parse_compute_type(std::string_view name) {
    for (dtype t : {dtype::f32, dtype::bf16, dtype::f16})
        if (name == dtype_name(t)) return t;
    throw config_error("compute type must be f32, bf16 or f16, got '" + std::string(name) + "'");
}

/// Elements from the first to one past the last element of a strided (batch of) rows x cols operand.
inline std::int64_t operand_extent(std::int64_t batch, std::int64_t stride, std::int64_t rows, std::int64_t ld, std::int64_t cols) {
    if (batch <= 0 || rows <= 0 || cols <= 0) return 0;
    return (batch - 1) * stride + (rows - 1) * ld + cols;
}

/// n f32 values rounded (to nearest even) to the 16-bit type `to`, in a new backend buffer of bytes.
template <class Context>
buffer<Context, std::byte> rounded_copy(Context& ctx, const float* x, std::int64_t n, dtype to) {
    buffer<Context, std::byte> r(ctx, static_cast<std::size_t>(n) * dtype_size(to));
    if (n > 0) cast(ctx, r.data(), to, x, dtype::f32, n);
    return r;
}

/// C = alpha op(A) op(B) + beta C (+ bias) for f32 A, B and C, products in `compute`: f32 is the
/// backend gemm as it stands; bf16 / f16 round every element A and B span (leading dimensions and
/// batch strides kept) and accumulate in f32.
template <class Context>
void compute_gemm(Context& ctx, const gemm_desc& desc, const float* a, const float* b, float* c, dtype compute) {
    check_compute_type(compute, "compute_gemm");
    gemm_desc d = packed(desc);
    if (compute == dtype::f32) return gemm(ctx, d, a, b, c);
    if (d.ab_type != dtype::f32) throw config_error("compute_gemm: A and B must be f32, got " + std::string(dtype_name(d.ab_type)));
    const auto a16 = rounded_copy(ctx, a, operand_extent(d.batch, d.stride_a, d.trans_a ? d.k : d.m, d.lda, d.trans_a ? d.m : d.k), compute);
    const auto b16 = rounded_copy(ctx, b, operand_extent(d.batch, d.stride_b, d.trans_b ? d.n : d.k, d.ldb, d.trans_b ? d.k : d.n), compute);
    d.ab_type = compute;
    gemm(ctx, d, a16.data(), b16.data(), c);
}

}  // namespace hoprag
