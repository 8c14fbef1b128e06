// Dropout as a pure function of (philox stream, element index): element i is kept when its uniform
// draw is >= p and then scaled by 1 / (1 - p) (inverted dropout), else zeroed. Because the mask is
// recomputed from the counter, forward and backward apply the same mask without storing it, and the
// CPU loop and the CUDA kernel drop the same elements (DESIGN rule 2).
#pragma once

#include <cstdint>

#include "hoprag/core/config.hpp"
#include "hoprag/core/rng.hpp"

namespace hoprag::kernels {

/// The factor applied to element i: 0 (dropped) or 1 / (1 - p) (kept). p in [0, 1).
HOPRAG_INLINE float dropout_factor(const philox_stream& s, std::uint64_t i, float p) {
    return s.uniform(i) >= p ? 1.0f / (1.0f - p) : 0.0f;
}

}  // namespace hoprag::kernels
