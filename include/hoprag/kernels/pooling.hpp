// Row body of sequence pooling shared by the CPU and CUDA backends (DESIGN rule 2): one sequence's
// token states x [seq, dim] become one vector out [dim] — the first token's state (`cls`, as BGE)
// or the mean over the first `valid` tokens (`mean`, as all-MiniLM / sentence-transformers), then
// optionally divided by its L2 norm (max(norm, 1e-12), as torch.nn.functional.normalize). Written
// against the Lanes interface (kernels/lanes.hpp): each lane writes and later rescales only the
// columns it owns (c = lane, lane + count, ...), so a warp needs no shared memory or barriers.
#pragma once

#include <cmath>
#include <cstdint>

#include "hoprag/core/config.hpp"

namespace hoprag::kernels {

/// How a sequence of token states becomes one vector.
enum class pooling_kind { cls, mean };

/// out[dim] from x [seq_stride rows, dim]: the pooled state of one sequence whose first `valid`
/// tokens are real (valid <= 0 gives zeros for mean pooling), L2-normalised when `normalize`.
template <class Lanes>
HOPRAG_INLINE void pool_row(const Lanes& g, float* out, const float* x, std::int64_t dim, std::int64_t valid,
                            pooling_kind kind, bool normalize) {
    const float inv_valid = valid > 0 ? 1.0f / static_cast<float>(valid) : 0.0f;
    for (std::int64_t c = g.lane(); c < dim; c += g.count()) {
        float v = 0.0f;
        if (kind == pooling_kind::cls) {
            v = x[c];
        } else {
            for (std::int64_t t = 0; t < valid; ++t) v += x[t * dim + c];
            v *= inv_valid;
        }
        out[c] = v;
    }
    if (!normalize) return;
    const float ss = g.sum_over(dim, [&](std::int64_t c) { return out[c] * out[c]; });
    const float norm = sqrtf(ss);
    const float inv = 1.0f / (norm > 1e-12f ? norm : 1e-12f);
    for (std::int64_t c = g.lane(); c < dim; c += g.count()) out[c] *= inv;
}

}  // namespace hoprag::kernels
