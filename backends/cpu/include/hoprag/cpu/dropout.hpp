// CPU dropout: out[i] = x[i] * dropout_factor(s, i, p), the shared body of hoprag/kernels/dropout.hpp.
// The same call with the same stream is the backward (apply the mask to the incoming gradient).
#pragma once

#include <cstdint>
#include <string>

#include "hoprag/core/error.hpp"
#include "hoprag/core/rng.hpp"
#include "hoprag/cpu/context.hpp"
#include "hoprag/kernels/dropout.hpp"

namespace hoprag::cpu {

/// out[i] = x[i] * mask_i / (1 - p) for i < n (out may alias x). Throws config_error unless 0 <= p < 1.
inline void dropout(context&, float* out, const float* x, std::int64_t n, float p, const philox_stream& s) {
    if (!(p >= 0.0f && p < 1.0f)) throw config_error("dropout: probability must be in [0, 1), got " + std::to_string(p));
    for (std::int64_t i = 0; i < n; ++i) out[i] = x[i] * kernels::dropout_factor(s, static_cast<std::uint64_t>(i), p);
}

}  // namespace hoprag::cpu
