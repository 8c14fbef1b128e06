// CPU top-k per row: values [rows, k] in descending order and their column indices [rows, k] of
// x [rows, cols]; ties go to the lower index, NaN ranks last (hoprag/kernels/topk.hpp). Rows run in
// parallel. Throws shape_error unless 0 <= k <= cols (and cols fits an int32 index).
#pragma once

#include <cstdint>

#include "hoprag/cpu/context.hpp"
#include "hoprag/cpu/parallel.hpp"
#include "hoprag/kernels/checks.hpp"
#include "hoprag/kernels/topk.hpp"

namespace hoprag::cpu {

/// The k largest values of each row of x [rows, cols], descending, with their column indices.
inline void topk(context&, float* values, std::int32_t* indices, const float* x, std::int64_t rows, std::int64_t cols,
                 std::int64_t k) {
    kernels::check_topk(rows, cols, k);
    kernels::require_pointers("topk", rows * k, {{"values", values}, {"indices", indices}, {"x", x}});
    parallel_rows(rows,
                  [&](std::int64_t r) { kernels::topk_row(values + r * k, indices + r * k, x + r * cols, cols, k); });
}

}  // namespace hoprag::cpu
