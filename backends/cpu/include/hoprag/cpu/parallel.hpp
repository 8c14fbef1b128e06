// Row parallelism of the CPU backend: an OpenMP parallel for with a static schedule, so every row
// is computed by exactly one thread and results do not depend on the thread count.
#pragma once

#include <cstdint>

namespace hoprag::cpu {

/// Call f(r) for every r in [0, rows), rows split statically over the OpenMP threads.
template <class F>
void parallel_rows(std::int64_t rows, F&& f) {
#pragma omp parallel for schedule(static)
    for (std::int64_t r = 0; r < rows; ++r) f(r);
}

}  // namespace hoprag::cpu
