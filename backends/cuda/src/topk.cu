// CUDA top-k (see hoprag/cuda/topk.hpp): checks sizes on the host and launches one thread per row.
#include "hoprag/cuda/launch.cuh"
#include "hoprag/cuda/topk.cuh"
#include "hoprag/cuda/topk.hpp"
#include "hoprag/kernels/checks.hpp"

namespace hoprag::cuda {

void topk(context& ctx, float* values, std::int32_t* indices, const float* x, std::int64_t rows, std::int64_t cols,
          std::int64_t k) {
    kernels::check_topk(rows, cols, k);
    kernels::require_pointers("topk", rows * k, {{"values", values}, {"indices", indices}, {"x", x}});
    if (k == 0) return;
    detail::launch_elements(ctx, rows, detail::topk_fn{values, indices, x, cols, k});
}

}  // namespace hoprag::cuda
