// CUDA top-k per row (CUDA-free declaration; definition in backends/cuda/src/topk.cu). Same
// signature and semantics as hoprag/cpu/topk.hpp (descending, ties to the lower index, NaN last;
// shape_error unless 0 <= k <= cols). One thread per row running the shared serial row body:
// correct and simple, fast for many rows with small k; not tuned for a few very long rows.
#pragma once

#include <cstdint>

#include "hoprag/cuda/context.hpp"

namespace hoprag::cuda {

/// values [rows, k] and indices [rows, k]: the k largest of each row of x [rows, cols].
void topk(context& ctx, float* values, std::int32_t* indices, const float* x, std::int64_t rows, std::int64_t cols,
          std::int64_t k);

}  // namespace hoprag::cuda
