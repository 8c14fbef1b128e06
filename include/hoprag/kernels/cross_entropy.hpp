// Row bodies of softmax cross-entropy over logits [rows, vocab] with integer targets, written once
// against the `Lanes` interface (serial lane on CPU, warp per row on CUDA). Numerically stable:
// lse = m + log(sum exp(x - m)) with m the row maximum; loss = lse - x[target]. A row whose target
// equals ignore_index has loss 0 and a zero gradient row. A target outside [0, vocab) that is not
// ignore_index gives loss NaN here (the CPU entry point rejects it before running the body).
//   backward: dlogits = grad_scale * (softmax(x) - onehot(target)), softmax from the saved lse.
// Vocabularies of 49152+ are fine: each lane loops over its share of the row.
#pragma once

#include <cmath>
#include <cstdint>

#include "hoprag/core/config.hpp"
#include "hoprag/kernels/lanes.hpp"

namespace hoprag::kernels {

/// Loss and log-sum-exp of one row x[vocab]; lane 0 stores *loss and *lse.
template <class Lanes>
HOPRAG_INLINE void cross_entropy_forward_row(const Lanes& g, float* loss, float* lse, const float* x,
                                             std::int32_t target, std::int64_t vocab, std::int32_t ignore_index) {
    const float m = g.max_over(vocab, [&](std::int64_t c) { return x[c]; });
    const float s = g.sum_over(vocab, [&](std::int64_t c) { return ::expf(x[c] - m); });
    const float l = m + ::logf(s);
    if (g.lane() == 0) {
        *lse = l;
        if (target == ignore_index)
            *loss = 0.0f;
        else if (target < 0 || target >= vocab)
            *loss = NAN;
        else
            *loss = l - x[target];
    }
}

/// dlogits[vocab] of one row: grad_scale * (exp(x - lse) - [c == target]), or zeros if ignored.
template <class Lanes>
HOPRAG_INLINE void cross_entropy_backward_row(const Lanes& g, float* dx, const float* x, float lse, std::int32_t target,
                                              float grad_scale, std::int64_t vocab, std::int32_t ignore_index) {
    const bool ignored = target == ignore_index;
    for (std::int64_t c = g.lane(); c < vocab; c += g.count()) {
        if (ignored) {
            dx[c] = 0.0f;
        } else {
            const float p = ::expf(x[c] - lse);
            dx[c] = grad_scale * (c == target ? p - 1.0f : p);
        }
    }
}

}  // namespace hoprag::kernels
