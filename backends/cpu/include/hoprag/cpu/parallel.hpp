// Row parallelism of the CPU backend: an OpenMP parallel for with a static schedule, so every row
// is computed by exactly one thread and results do not depend on the thread count.
// HOPRAG_CPU_CLONES marks a hot serial loop function for function multiversioning: GCC/Clang on
// x86-64 compile it for AVX-512, AVX2 and the baseline and pick one by the CPU at load time (the
// library itself is compiled without -march, so this is how row kernels get wide vectors while
// staying portable). No FMA clone: elementwise results are the same bits on every x86-64 CPU.
#pragma once

#include <cstdint>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(__CUDACC__) && \
    !defined(HOPRAG_NO_CPU_CLONES)
#define HOPRAG_CPU_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define HOPRAG_CPU_CLONES
#endif

namespace hoprag::cpu {

/// Call f(begin, end) for consecutive blocks of `block` items covering [0, n), the blocks split
/// statically over the OpenMP threads (each item in exactly one block).
template <class F>
void parallel_blocks(std::int64_t n, std::int64_t block, F&& f) {
    const std::int64_t blocks = (n + block - 1) / block;
#pragma omp parallel for schedule(static)
    for (std::int64_t i = 0; i < blocks; ++i) f(i * block, i * block + block < n ? i * block + block : n);
}

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
