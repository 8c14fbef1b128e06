// CUDA scaled-dot-product attention, forward and backward: the CUDA-free declarations (DESIGN
// rule 1). Definitions are in backends/cuda/src/attention.cu; semantics and signatures match
// hoprag::cpu::attention_forward / attention_backward, with device pointers (d.kv_valid included).
#pragma once

#include "hoprag/backend/ops.hpp"
#include "hoprag/cuda/context.hpp"

namespace hoprag::cuda {

/// See hoprag::cpu::attention_forward. All pointers, including d.kv_valid, are device memory.
void attention_forward(context& ctx, const attention_desc& d, float* out, float* probs, const float* q, const float* k,
                       const float* v);
/// See hoprag::cpu::attention_backward. Uses batch * n_heads * q_len floats of stream-ordered scratch.
void attention_backward(context& ctx, const attention_desc& d, float* dq, float* dk, float* dv, const float* dout,
                        const float* q, const float* k, const float* v, const float* probs);

}  // namespace hoprag::cuda
