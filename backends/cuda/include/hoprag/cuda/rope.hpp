// CUDA rotary position embedding, forward and backward, in place: the CUDA-free declarations
// (DESIGN rule 1). Definitions are in backends/cuda/src/rope.cu; semantics and signatures match
// hoprag::cpu::rope_forward / rope_backward, with device pointers.
#pragma once

#include <cstdint>

#include "hoprag/backend/ops.hpp"
#include "hoprag/cuda/context.hpp"

namespace hoprag::cuda {

/// See hoprag::cpu::rope_forward. x: device [batch, seq, heads, head_dim]; positions: device
/// [batch * seq] or nullptr.
void rope_forward(context& ctx, float* x, const std::int32_t* positions, std::int64_t batch, std::int64_t seq,
                  std::int64_t heads, std::int64_t head_dim, float theta, rope_style style);
/// See hoprag::cpu::rope_backward (rotation by -angle, in place on dx).
void rope_backward(context& ctx, float* dx, const std::int32_t* positions, std::int64_t batch, std::int64_t seq,
                   std::int64_t heads, std::int64_t head_dim, float theta, rope_style style);

}  // namespace hoprag::cuda
