// CPU softmax over rows with per-row column limits (padding or causal masks), forward and backward.
// Rows run in parallel (OpenMP, static schedule) over the shared kernel bodies of
// hoprag/kernels/softmax.hpp, so results are identical for any thread count.
#pragma once

#include <cstdint>
#include <string>

#include "hoprag/core/error.hpp"
#include "hoprag/cpu/context.hpp"
#include "hoprag/cpu/parallel.hpp"
#include "hoprag/kernels/softmax.hpp"

namespace hoprag::cpu {
namespace detail {
/// Softmax of rows [r0, r1): one thread's block, multiversioned (AVX-512 / AVX2 / baseline).
HOPRAG_CPU_CLONES inline void softmax_rows_forward(float* out, const float* x, std::int64_t r0, std::int64_t r1,
                                                   std::int64_t cols, const std::int32_t* row_limit) {
    for (std::int64_t r = r0; r < r1; ++r)
        kernels::softmax_row_forward(out + r * cols, x + r * cols, cols, row_limit ? row_limit[r] : cols);
}
}  // namespace detail

/// out[r, j] = softmax of x[r, 0 .. limit_r) at j for j < limit_r, and 0 for j >= limit_r, where
/// limit_r = row_limit[r] clamped to [0, cols] (row_limit [rows] or nullptr = cols). A row with
/// limit 0 is all zeros. x, out: [rows, cols]; out may equal x.
inline void softmax_forward(context&, float* out, const float* x, std::int64_t rows, std::int64_t cols,
                            const std::int32_t* row_limit = nullptr) {
    if (rows < 0 || cols < 0)
        throw shape_error("softmax_forward: rows and cols must be >= 0, found " + std::to_string(rows) + ", " +
                          std::to_string(cols));
    parallel_blocks(rows, 16, [&](std::int64_t b, std::int64_t e) { detail::softmax_rows_forward(out, x, b, e, cols, row_limit); });
}

/// dx[r, j] = out[r, j] * (dout[r, j] - sum_k dout[r, k] * out[r, k]); masked columns (out = 0)
/// get 0. dx, dout, out: [rows, cols]; dx may equal dout.
inline void softmax_backward(context&, float* dx, const float* dout, const float* out, std::int64_t rows, std::int64_t cols) {
    if (rows < 0 || cols < 0)
        throw shape_error("softmax_backward: rows and cols must be >= 0, found " + std::to_string(rows) + ", " +
                          std::to_string(cols));
    parallel_rows(rows, [&](std::int64_t r) {
        kernels::softmax_row_backward(dx + r * cols, dout + r * cols, out + r * cols, cols);
    });
}

}  // namespace hoprag::cpu
