// How a row kernel body splits one row over cooperating lanes. A row body written against the
// `Lanes` interface runs unchanged as one serial loop on the CPU (`serial_lanes`) and as a warp
// per row on CUDA (the CUDA backend's `warp_lanes`), so a norm or a cross-entropy row has one
// arithmetic body for both backends (DESIGN rule 2). The interface:
//   lane(), count()        this lane and the number of lanes: a body's elementwise loops visit
//                          c = lane(), lane() + count(), ...
//   sum_over(n, f)         sum of f(c) over all c < n, the same value returned to every lane;
//   max_over(n, f)         maximum likewise (-inf for n == 0).
// Every lane must call sum_over/max_over together. Only lane 0 writes per-row scalars. The CPU
// version sums in 8 interleaved partial sums (vectorisable, and more accurate than one chain).
#pragma once

#include <cmath>
#include <cstdint>

#include "hoprag/core/config.hpp"

namespace hoprag::kernels {

/// One lane per row: the CPU backend's row loop.
struct serial_lanes {
    static constexpr int partials = 8;

    HOPRAG_INLINE int lane() const { return 0; }
    HOPRAG_INLINE int count() const { return 1; }

    template <class F>
    HOPRAG_INLINE float sum_over(std::int64_t n, F&& f) const {
        float acc[partials] = {};
        std::int64_t c = 0;
        for (; c + partials <= n; c += partials)
            for (int j = 0; j < partials; ++j) acc[j] += f(c + j);
        for (int j = 0; c + j < n; ++j) acc[j] += f(c + j);
        return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    }

    template <class F>
    HOPRAG_INLINE float max_over(std::int64_t n, F&& f) const {
        float m = -INFINITY;
        for (std::int64_t c = 0; c < n; ++c) m = ::fmaxf(m, f(c));
        return m;
    }
};

}  // namespace hoprag::kernels
