// CPU embedding lookup and its gradient. ids [n_ids] index rows of table [vocab, dim]; out and dout
// are [n_ids, dim]. Out-of-range ids are rejected with a shape_error naming the position and id.
// The backward scatter-add is deterministic: column blocks in parallel, positions in order.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>

#include "hoprag/core/error.hpp"
#include "hoprag/cpu/context.hpp"
#include "hoprag/cpu/parallel.hpp"
#include "hoprag/kernels/checks.hpp"
#include "hoprag/kernels/embedding.hpp"

namespace hoprag::cpu {

namespace detail {
inline void check_ids(const char* op, const std::int32_t* ids, std::int64_t n_ids, std::int64_t vocab) {
    for (std::int64_t i = 0; i < n_ids; ++i)
        if (!kernels::embedding_id_valid(ids[i], vocab))
            throw shape_error(std::string(op) + ": id " + std::to_string(ids[i]) + " at position " + std::to_string(i) +
                              " is outside the table's " + std::to_string(vocab) + " rows");
}
}  // namespace detail

/// out[i, :] = table[ids[i], :]; throws shape_error on an id outside [0, vocab).
inline void embedding_forward(context&, float* out, const std::int32_t* ids, const float* table, std::int64_t n_ids,
                              std::int64_t dim, std::int64_t vocab) {
    kernels::require_nonnegative("embedding_forward", "n_ids", n_ids);
    kernels::require_nonnegative("embedding_forward", "dim", dim);
    kernels::require_nonnegative("embedding_forward", "vocab", vocab);
    kernels::require_pointers("embedding_forward", n_ids * dim, {{"out", out}, {"ids", ids}, {"table", table}});
    detail::check_ids("embedding_forward", ids, n_ids, vocab);
    if (dim == 0) return;
    parallel_rows(n_ids * dim,
                  [&](std::int64_t e) { kernels::embedding_forward_element(out, ids, table, e, dim, vocab); });
}

/// dtable[ids[i], :] += dout[i, :] for dtable [vocab, dim] (accumulates; deterministic); throws
/// shape_error on an id outside [0, vocab).
inline void embedding_backward(context&, float* dtable, const std::int32_t* ids, const float* dout, std::int64_t n_ids,
                               std::int64_t dim, std::int64_t vocab) {
    kernels::require_nonnegative("embedding_backward", "n_ids", n_ids);
    kernels::require_nonnegative("embedding_backward", "dim", dim);
    kernels::require_nonnegative("embedding_backward", "vocab", vocab);
    kernels::require_pointers("embedding_backward", n_ids * dim, {{"dtable", dtable}, {"ids", ids}, {"dout", dout}});
    detail::check_ids("embedding_backward", ids, n_ids, vocab);
    constexpr std::int64_t block = 64;
    parallel_rows((dim + block - 1) / block, [&](std::int64_t cb) {
        const std::int64_t d0 = cb * block, d1 = std::min(dim, d0 + block);
        for (std::int64_t i = 0; i < n_ids; ++i) {
            float* row = dtable + static_cast<std::int64_t>(ids[i]) * dim;
            const float* g = dout + i * dim;
            for (std::int64_t d = d0; d < d1; ++d) row[d] += g[d];
        }
    });
}

}  // namespace hoprag::cpu
