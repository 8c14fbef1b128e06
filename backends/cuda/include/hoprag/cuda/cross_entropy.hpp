// CUDA softmax cross-entropy (CUDA-free declarations; definitions in
// backends/cuda/src/cross_entropy.cu). Same signatures and semantics as hoprag/cpu/cross_entropy.hpp
// except for bad targets: the targets live on the device, so instead of a shape_error a row whose
// target is outside [0, vocab) and not ignore_index gets loss NaN (and is visible in the mean loss);
// its backward row is softmax without the one-hot term. One warp per row; device pointers.
#pragma once

#include <cstdint>

#include "hoprag/cuda/context.hpp"

namespace hoprag::cuda {

/// loss[r] = logsumexp(logits[r, :]) - logits[r, targets[r]] (0 if ignored); lse[r] saved.
void cross_entropy_forward(context& ctx, float* loss, float* lse, const float* logits, const std::int32_t* targets,
                           std::int64_t rows, std::int64_t vocab, std::int32_t ignore_index);
/// dlogits[r, :] = grad_scale * (softmax(logits[r, :]) - onehot(targets[r])), zeros if ignored.
void cross_entropy_backward(context& ctx, float* dlogits, const float* logits, const float* lse,
                            const std::int32_t* targets, float grad_scale, std::int64_t rows, std::int64_t vocab,
                            std::int32_t ignore_index);

}  // namespace hoprag::cuda
