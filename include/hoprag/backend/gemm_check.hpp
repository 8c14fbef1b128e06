// Validation of `gemm_desc` shared by every backend's GEMM: sizes, leading dimensions, batch
// strides and element types are checked on the host before any backend touches memory, so a CPU
// and a CUDA GEMM refuse the same descriptors with the same messages. CUDA-free.
#pragma once

#include <cstdint>
#include <string>

#include "hoprag/backend/ops.hpp"
#include "hoprag/core/dtype.hpp"
#include "hoprag/core/error.hpp"

namespace hoprag {

/// Check a GEMM descriptor and return it with packed defaults filled in (see `packed`).
/// Throws shape_error for negative sizes, leading dimensions shorter than a stored row, negative
/// batch strides or output batches that overlap; config_error for unsupported element types.
inline gemm_desc checked_gemm_desc(const gemm_desc& in) {
    const auto need = [](bool ok, const std::string& msg) {
        if (!ok) throw shape_error("gemm: " + msg);
    };
    need(in.m >= 0 && in.n >= 0 && in.k >= 0 && in.batch >= 0,
         "sizes must be >= 0, found m=" + std::to_string(in.m) + " n=" + std::to_string(in.n) + " k=" +
             std::to_string(in.k) + " batch=" + std::to_string(in.batch));
    const auto float_type = [](dtype t) { return t == dtype::f32 || t == dtype::bf16 || t == dtype::f16; };
    if (!float_type(in.ab_type))
        throw config_error("gemm: A/B element type must be f32, bf16 or f16, found " + std::string(dtype_name(in.ab_type)));
    if (!float_type(in.c_type))
        throw config_error("gemm: C element type must be f32, bf16 or f16, found " + std::string(dtype_name(in.c_type)));
    need(in.lda >= 0 && in.ldb >= 0 && in.ldc >= 0 && in.stride_a >= 0 && in.stride_b >= 0 && in.stride_c >= 0,
         "leading dimensions and batch strides must be >= 0 (0 = packed)");
    const gemm_desc d = packed(in);
    const std::int64_t row_a = d.trans_a ? d.m : d.k, row_b = d.trans_b ? d.k : d.n;
    need(d.lda >= row_a, "lda=" + std::to_string(d.lda) + " is shorter than a stored row of A (" + std::to_string(row_a) + (d.trans_a ? ", A stored k x m)" : ", A stored m x k)"));
    need(d.ldb >= row_b, "ldb=" + std::to_string(d.ldb) + " is shorter than a stored row of B (" + std::to_string(row_b) + (d.trans_b ? ", B stored n x k)" : ", B stored k x n)"));
    need(d.ldc >= d.n, "ldc=" + std::to_string(d.ldc) + " is shorter than a row of C (n=" + std::to_string(d.n) + ")");
    if (d.batch > 1 && d.m > 0 && d.n > 0)
        need(d.stride_c >= (d.m - 1) * d.ldc + d.n,
             "stride_c=" + std::to_string(d.stride_c) + " makes batch items of C overlap (need >= " +
                 std::to_string((d.m - 1) * d.ldc + d.n) + ")");
    return d;
}

}  // namespace hoprag
