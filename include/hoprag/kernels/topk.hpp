// Row body of top-k selection: the k largest values of a row x[cols] in descending order with
// their column indices. Ties go to the lower index first; NaN ranks below every number (so it is
// only selected when fewer than k numbers exist), and among NaNs the lower index wins. Insertion
// into the sorted output keeps it O(cols * k) in the worst case and ~O(cols) for random data,
// which suits k << cols (retrieval top-200). Serial per row; the same body serves a CPU row loop
// and a CUDA thread per row.
#pragma once

#include <cstdint>
#include <limits>
#include <string>

#include "hoprag/core/config.hpp"
#include "hoprag/kernels/checks.hpp"

namespace hoprag::kernels {

/// True when (a, ia) ranks before (b, ib): larger value first, NaN last, ties by lower index.
HOPRAG_INLINE bool topk_before(float a, std::int32_t ia, float b, std::int32_t ib) {
    const bool na = a != a, nb = b != b;
    if (na || nb) return nb && (!na || ia < ib);
    if (a != b) return a > b;
    return ia < ib;
}

/// values[k], indices[k] of one row x[cols]; requires 0 <= k <= cols.
HOPRAG_INLINE void topk_row(float* values, std::int32_t* indices, const float* x, std::int64_t cols, std::int64_t k) {
    if (k <= 0) return;
    std::int64_t filled = 0;
    for (std::int64_t c = 0; c < cols; ++c) {
        const float v = x[c];
        const auto ic = static_cast<std::int32_t>(c);
        if (filled == k && !topk_before(v, ic, values[k - 1], indices[k - 1])) continue;
        std::int64_t pos = filled < k ? filled++ : k - 1;
        while (pos > 0 && topk_before(v, ic, values[pos - 1], indices[pos - 1])) {
            values[pos] = values[pos - 1];
            indices[pos] = indices[pos - 1];
            --pos;
        }
        values[pos] = v;
        indices[pos] = ic;
    }
}

/// Host-side size check shared by the CPU and CUDA entry points (throws shape_error).
inline void check_topk(std::int64_t rows, std::int64_t cols, std::int64_t k) {
    require_nonnegative("topk", "rows", rows);
    require_nonnegative("topk", "cols", cols);
    require_nonnegative("topk", "k", k);
    if (k > cols)
        throw shape_error("topk: k = " + std::to_string(k) + " exceeds the row length cols = " + std::to_string(cols));
    if (cols > std::numeric_limits<std::int32_t>::max())
        throw shape_error("topk: cols = " + std::to_string(cols) + " does not fit the int32 indices");
}
}  // namespace hoprag::kernels
