// CPU rotary position embedding (RoPE), forward and backward, in place on
// x [batch, seq, heads, head_dim]. Rows (one head of one token) run in parallel over the shared
// kernel body of hoprag/kernels/rope.hpp; backward rotates the gradient by the negated angle.
#pragma once

#include <cstdint>

#include "hoprag/backend/ops.hpp"
#include "hoprag/cpu/context.hpp"
#include "hoprag/cpu/parallel.hpp"
#include "hoprag/kernels/rope.hpp"

namespace hoprag::cpu {

/// Rotate x [batch, seq, heads, head_dim] in place: token (b, s) at position positions[b * seq + s]
/// (positions [batch * seq], or nullptr for s). head_dim must be even; theta > 0 (10000 for Llama).
inline void rope_forward(context&, float* x, const std::int32_t* positions, std::int64_t batch, std::int64_t seq,
                         std::int64_t heads, std::int64_t head_dim, float theta, rope_style style) {
    kernels::validate_rope(batch, seq, heads, head_dim, theta, "rope_forward");
    parallel_rows(batch * seq * heads, [&](std::int64_t r) {
        kernels::rope_row(x, positions, r, seq, heads, head_dim, theta, style, 1.0f);
    }, head_dim);
}

/// Gradient of rope_forward, in place on dx (same layout and arguments): rotation by -angle.
inline void rope_backward(context&, float* dx, const std::int32_t* positions, std::int64_t batch, std::int64_t seq,
                          std::int64_t heads, std::int64_t head_dim, float theta, rope_style style) {
    kernels::validate_rope(batch, seq, heads, head_dim, theta, "rope_backward");
    parallel_rows(batch * seq * heads, [&](std::int64_t r) {
        kernels::rope_row(dx, positions, r, seq, heads, head_dim, theta, style, -1.0f);
    }, head_dim);
}

}  // namespace hoprag::cpu
