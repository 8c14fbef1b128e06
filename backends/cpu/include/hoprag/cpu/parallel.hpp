// The CPU backend's row loop: `parallel_rows(rows, f)` calls f(r) for every r in [0, rows) across
// the OpenMP threads with a static schedule. f must not throw (an exception cannot leave an OpenMP
// region), so entry points validate their arguments before the loop.
#pragma once

#include <cstdint>

namespace hoprag::cpu {

/// f(r) for r in [0, rows), in parallel (OpenMP, static schedule); nothing when rows <= 0.
template <class F>
void parallel_rows(std::int64_t rows, F&& f) {
#pragma omp parallel for schedule(static)
    for (std::int64_t r = 0; r < rows; ++r) f(r);
}

}  // namespace hoprag::cpu
