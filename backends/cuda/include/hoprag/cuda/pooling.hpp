// CUDA sequence pooling (CUDA-free declaration; definition in backends/cuda/src/pooling.cu). Same
// signature and semantics as hoprag/cpu/pooling.hpp: one warp per sequence over the shared row body.
#pragma once

#include <cstdint>

#include "hoprag/cuda/context.hpp"
#include "hoprag/kernels/pooling.hpp"

namespace hoprag::cuda {

/// out [batch, dim] = pooled x [batch, seq, dim] over valid [batch] tokens (device pointers),
/// L2-normalised per row when `normalize`.
void sequence_pool(context& ctx, float* out, const float* x, const std::int32_t* valid, std::int64_t batch,
                   std::int64_t seq, std::int64_t dim, kernels::pooling_kind kind, bool normalize);

}  // namespace hoprag::cuda
