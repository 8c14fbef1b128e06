// Row parallelism of the CPU backend: an OpenMP parallel for with a static schedule, so every row
// is computed by exactly one thread and results do not depend on the thread count.
#pragma once

#include <cstdint>

namespace hoprag::cpu {

/// Below this much work (rows * work_per_row, roughly in multiply-adds) a loop runs on the calling
/// thread: waking the team costs more than it saves (decode steps run many tiny row ops).
inline constexpr std::int64_t parallel_min_work = 32768;

/// Call f(r) for every r in [0, rows), rows split statically over the OpenMP threads; serial when
/// rows < 2 or rows * work_per_row < parallel_min_work (the default work_per_row keeps every
/// multi-row loop parallel). Each row is still computed by exactly one thread.
template <class F>
void parallel_rows(std::int64_t rows, F&& f, std::int64_t work_per_row = parallel_min_work) {
#pragma omp parallel for schedule(static) if (rows > 1 && rows * work_per_row >= parallel_min_work)
    for (std::int64_t r = 0; r < rows; ++r) f(r);
}

}  // namespace hoprag::cpu
