// CPU sequence pooling (CLS or masked mean, optional L2 normalisation) over the row body of
// hoprag/kernels/pooling.hpp; sequences run in parallel. x is [batch, seq, dim] (padded), valid
// [batch] counts the real tokens of each sequence, out is [batch, dim].
#pragma once

#include <cstdint>
#include <string>

#include "hoprag/core/error.hpp"
#include "hoprag/cpu/context.hpp"
#include "hoprag/cpu/parallel.hpp"
#include "hoprag/kernels/checks.hpp"
#include "hoprag/kernels/lanes.hpp"
#include "hoprag/kernels/pooling.hpp"

namespace hoprag::cpu {

/// out [batch, dim] = pooled x [batch, seq, dim] over valid [batch] tokens (clamped to [0, seq]),
/// L2-normalised per row when `normalize`.
inline void sequence_pool(context&, float* out, const float* x, const std::int32_t* valid, std::int64_t batch,
                          std::int64_t seq, std::int64_t dim, kernels::pooling_kind kind, bool normalize) {
    kernels::require_nonnegative("sequence_pool", "batch", batch);
    kernels::require_positive("sequence_pool", "seq", seq);
    kernels::require_positive("sequence_pool", "dim", dim);
    kernels::require_pointers("sequence_pool", batch, {{"out", out}, {"x", x}, {"valid", valid}});
    parallel_rows(batch, [&](std::int64_t b) {
        const std::int64_t v = valid[b] < 0 ? 0 : (valid[b] > seq ? seq : valid[b]);
        kernels::pool_row(kernels::serial_lanes{}, out + b * dim, x + b * seq * dim, dim, v, kind, normalize);
    });
}

}  // namespace hoprag::cpu
