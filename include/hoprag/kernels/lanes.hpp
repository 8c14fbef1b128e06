// How a row kernel body splits one row over cooperating lanes. A row body written against the
// `Lanes` interface (lane(), count(), sum(v), max(v)) runs unchanged as one serial loop on the CPU
// (`serial_lanes`: one lane, reductions are the identity) and as a warp per row on CUDA (the CUDA
// backend's `warp_lanes`, whose sum/max are warp shuffles), so a norm or a cross-entropy row has
// one arithmetic body for both backends (DESIGN rule 2). A body visits columns c = lane(),
// lane() + count(), ... and calls sum/max on every lane with that lane's partial value; only lane
// 0 writes per-row scalars.
#pragma once

#include "hoprag/core/config.hpp"

namespace hoprag::kernels {

/// One lane per row: the CPU backend's row loop.
struct serial_lanes {
    HOPRAG_INLINE int lane() const { return 0; }
    HOPRAG_INLINE int count() const { return 1; }
    HOPRAG_INLINE float sum(float v) const { return v; }
    HOPRAG_INLINE float max(float v) const { return v; }
};

}  // namespace hoprag::kernels
