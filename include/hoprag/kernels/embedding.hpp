// Per-element bodies of the embedding lookup: out[i, d] = table[ids[i], d] for ids [n_ids] into
// table [vocab, dim]. An id outside [0, vocab) yields a zero row from this body; the CPU entry
// point rejects such ids with a shape_error before running it, CUDA (which cannot throw from a
// kernel) writes the zeros. Backward is a scatter-add dtable[ids[i], d] += dout[i, d], whose
// ordering each backend chooses (CPU: deterministic, in position order).
#pragma once

#include <cstdint>

#include "hoprag/core/config.hpp"

namespace hoprag::kernels {

/// Element e = i * dim + d of the lookup.
HOPRAG_INLINE void embedding_forward_element(float* out, const std::int32_t* ids, const float* table, std::int64_t e,
                                             std::int64_t dim, std::int64_t vocab) {
    const std::int64_t i = e / dim, d = e - i * dim;
    const std::int32_t id = ids[i];
    out[e] = (id >= 0 && id < vocab) ? table[static_cast<std::int64_t>(id) * dim + d] : 0.0f;
}

/// True when `id` names a row of a table with `vocab` rows.
HOPRAG_INLINE bool embedding_id_valid(std::int32_t id, std::int64_t vocab) {
    return id >= 0 && id < vocab;
}

}  // namespace hoprag::kernels
