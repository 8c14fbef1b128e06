// CUDA embedding lookup and gradient (see hoprag/cuda/embedding.hpp): host entry points that check
// sizes and launch the functors of hoprag/cuda/embedding.cuh on the context's stream.
#include "hoprag/cuda/embedding.cuh"
#include "hoprag/cuda/embedding.hpp"
#include "hoprag/cuda/launch.cuh"
#include "hoprag/kernels/checks.hpp"

namespace hoprag::cuda {

void embedding_forward(context& ctx, float* out, const std::int32_t* ids, const float* table, std::int64_t n_ids,
                       std::int64_t dim, std::int64_t vocab) {
    kernels::require_nonnegative("embedding_forward", "n_ids", n_ids);
    kernels::require_nonnegative("embedding_forward", "dim", dim);
    kernels::require_nonnegative("embedding_forward", "vocab", vocab);
    kernels::require_pointers("embedding_forward", n_ids * dim, {{"out", out}, {"ids", ids}, {"table", table}});
    if (dim == 0) return;
    detail::launch_elements(ctx, n_ids * dim, detail::embedding_forward_fn{out, ids, table, dim, vocab});
}

void embedding_backward(context& ctx, float* dtable, const std::int32_t* ids, const float* dout, std::int64_t n_ids,
                        std::int64_t dim, std::int64_t vocab) {
    kernels::require_nonnegative("embedding_backward", "n_ids", n_ids);
    kernels::require_nonnegative("embedding_backward", "dim", dim);
    kernels::require_nonnegative("embedding_backward", "vocab", vocab);
    kernels::require_pointers("embedding_backward", n_ids * dim, {{"dtable", dtable}, {"ids", ids}, {"dout", dout}});
    if (dim == 0) return;
    detail::launch_elements(ctx, n_ids * dim, detail::embedding_backward_fn{dtable, ids, dout, dim, vocab});
}

}  // namespace hoprag::cuda
