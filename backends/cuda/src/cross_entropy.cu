// CUDA softmax cross-entropy (see hoprag/cuda/cross_entropy.hpp): host entry points that check
// sizes and launch the functors of hoprag/cuda/cross_entropy.cuh on the context's stream.
#include "hoprag/cuda/cross_entropy.cuh"
#include "hoprag/cuda/cross_entropy.hpp"
#include "hoprag/kernels/checks.hpp"

namespace hoprag::cuda {

void cross_entropy_forward(context& ctx, float* loss, float* lse, const float* logits, const std::int32_t* targets,
                           std::int64_t rows, std::int64_t vocab, std::int32_t ignore_index) {
    kernels::require_nonnegative("cross_entropy_forward", "rows", rows);
    kernels::require_positive("cross_entropy_forward", "vocab", vocab);
    kernels::require_pointers("cross_entropy_forward", rows,
                              {{"loss", loss}, {"lse", lse}, {"logits", logits}, {"targets", targets}});
    detail::launch_warp_rows(ctx, rows,
                             detail::cross_entropy_forward_fn{loss, lse, logits, targets, vocab, ignore_index});
}

void cross_entropy_backward(context& ctx, float* dlogits, const float* logits, const float* lse,
                            const std::int32_t* targets, float grad_scale, std::int64_t rows, std::int64_t vocab,
                            std::int32_t ignore_index) {
    kernels::require_nonnegative("cross_entropy_backward", "rows", rows);
    kernels::require_positive("cross_entropy_backward", "vocab", vocab);
    kernels::require_pointers("cross_entropy_backward", rows,
                              {{"dlogits", dlogits}, {"logits", logits}, {"lse", lse}, {"targets", targets}});
    detail::launch_warp_rows(
        ctx, rows, detail::cross_entropy_backward_fn{dlogits, logits, lse, targets, grad_scale, vocab, ignore_index});
}

}  // namespace hoprag::cuda
