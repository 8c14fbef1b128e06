// Rotary position embedding (RoPE) kernel body shared by the CPU and CUDA backends (DESIGN rule 2).
// Pair p of a head (p < head_dim / 2) is rotated by the angle pos * theta^(-2p / head_dim), computed
// in f32 with the same formula on both backends (nothing is precomputed). Which two elements form
// pair p depends on rope_style: `half` pairs (p, p + head_dim/2) as Hugging Face Llama/Mistral,
// `interleaved` pairs (2p, 2p + 1) as the original Meta code and GPT-J. Backward is the same
// rotation by the negated angle (a rotation's transpose is its inverse).
#pragma once

#include <cmath>
#include <cstdint>
#include <string>

#include "hoprag/backend/ops.hpp"
#include "hoprag/core/config.hpp"
#include "hoprag/core/error.hpp"

namespace hoprag::kernels {

/// Angle of pair p at position pos: pos * theta^(-2p / head_dim).
HOPRAG_INLINE float rope_angle(float pos, std::int64_t p, std::int64_t head_dim, float theta) {
    const float exponent = -static_cast<float>(2 * p) / static_cast<float>(head_dim);
    return pos * powf(theta, exponent);
}

/// Rotate one head vector x[head_dim] in place by +angle (sign = 1) or -angle (sign = -1).
/// Pre: head_dim is even.
HOPRAG_INLINE void rope_rotate(float* x, std::int64_t head_dim, float pos, float theta, rope_style style, float sign) {
    const std::int64_t half = head_dim / 2;
    for (std::int64_t p = 0; p < half; ++p) {
        const float a = rope_angle(pos, p, head_dim, theta);
        const float c = cosf(a), s = sign * sinf(a);
        const std::int64_t i0 = style == rope_style::half ? p : 2 * p;
        const std::int64_t i1 = style == rope_style::half ? p + half : 2 * p + 1;
        const float x0 = x[i0], x1 = x[i1];
        x[i0] = x0 * c - x1 * s;
        x[i1] = x0 * s + x1 * c;
    }
}

/// Rotate row r of x [batch, seq, heads, head_dim] (r indexes (batch, seq, head) rows).
/// positions is [batch * seq] or nullptr for 0..seq-1 in every batch item.
HOPRAG_INLINE void rope_row(float* x, const std::int32_t* positions, std::int64_t r, std::int64_t seq, std::int64_t heads,
                            std::int64_t head_dim, float theta, rope_style style, float sign) {
    const std::int64_t token = r / heads;  // b * seq + s
    const float pos = positions ? static_cast<float>(positions[token]) : static_cast<float>(token % seq);
    rope_rotate(x + r * head_dim, head_dim, pos, theta, style, sign);
}

/// Throws shape_error / config_error unless the RoPE arguments are usable (host only).
inline void validate_rope(std::int64_t batch, std::int64_t seq, std::int64_t heads, std::int64_t head_dim, float theta,
                          const char* op) {
    if (batch < 0 || seq < 0 || heads < 0)
        throw shape_error(std::string(op) + ": batch, seq and heads must be >= 0, found " + std::to_string(batch) + ", " +
                          std::to_string(seq) + ", " + std::to_string(heads));
    if (head_dim <= 0 || head_dim % 2 != 0)
        throw shape_error(std::string(op) + ": head_dim must be positive and even (RoPE rotates pairs), found " +
                          std::to_string(head_dim));
    if (!(theta > 0.0f)) throw config_error(std::string(op) + ": theta must be > 0, found " + std::to_string(theta));
}

}  // namespace hoprag::kernels
