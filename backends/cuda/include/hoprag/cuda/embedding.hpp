// CUDA embedding lookup and gradient (CUDA-free declarations; definitions in
// backends/cuda/src/embedding.cu). Same signatures as hoprag/cpu/embedding.hpp; the ids live on
// the device, so instead of a shape_error an id outside [0, vocab) reads as a zero row in forward
// and contributes nothing in backward. Backward scatter-adds with atomicAdd: accumulates, but the
// order of additions (and so the last bits) may vary between runs when ids repeat.
#pragma once

#include <cstdint>

#include "hoprag/cuda/context.hpp"

namespace hoprag::cuda {

/// out[i, :] = table[ids[i], :] for out [n_ids, dim], table [vocab, dim].
void embedding_forward(context& ctx, float* out, const std::int32_t* ids, const float* table, std::int64_t n_ids,
                       std::int64_t dim, std::int64_t vocab);
/// dtable[ids[i], :] += dout[i, :] for dtable [vocab, dim] (accumulates).
void embedding_backward(context& ctx, float* dtable, const std::int32_t* ids, const float* dout, std::int64_t n_ids,
                        std::int64_t dim, std::int64_t vocab);

}  // namespace hoprag::cuda
