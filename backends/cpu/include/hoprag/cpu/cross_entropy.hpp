// CPU softmax cross-entropy over logits [rows, vocab] with targets [rows]: rows in parallel over
// the row bodies of hoprag/kernels/cross_entropy.hpp. Forward writes loss [rows] and the saved
// log-sum-exp lse [rows]; backward writes dlogits = grad_scale * (softmax - onehot). Rows whose
// target is ignore_index have loss 0 and zero gradients; any other target outside [0, vocab) is
// rejected with a shape_error naming the row and the target.
#pragma once

#include <cstdint>
#include <string>

#include "hoprag/core/error.hpp"
#include "hoprag/cpu/context.hpp"
#include "hoprag/cpu/parallel.hpp"
#include "hoprag/kernels/checks.hpp"
#include "hoprag/kernels/cross_entropy.hpp"

namespace hoprag::cpu {

namespace detail {
inline void check_targets(const char* op, const std::int32_t* targets, std::int64_t rows, std::int64_t vocab,
                          std::int32_t ignore_index) {
    for (std::int64_t r = 0; r < rows; ++r) {
        const std::int32_t t = targets[r];
        if (t != ignore_index && (t < 0 || t >= vocab))
            throw shape_error(std::string(op) + ": target " + std::to_string(t) + " of row " + std::to_string(r) +
                              " is outside [0, " + std::to_string(vocab) + ") and is not ignore_index (" +
                              std::to_string(ignore_index) + ")");
    }
}
}  // namespace detail

/// loss[r] = logsumexp(logits[r, :]) - logits[r, targets[r]] (0 if ignored); lse[r] saved.
inline void cross_entropy_forward(context&, float* loss, float* lse, const float* logits, const std::int32_t* targets,
                                  std::int64_t rows, std::int64_t vocab, std::int32_t ignore_index) {
    kernels::require_nonnegative("cross_entropy_forward", "rows", rows);
    kernels::require_positive("cross_entropy_forward", "vocab", vocab);
    kernels::require_pointers("cross_entropy_forward", rows,
                              {{"loss", loss}, {"lse", lse}, {"logits", logits}, {"targets", targets}});
    detail::check_targets("cross_entropy_forward", targets, rows, vocab, ignore_index);
    parallel_rows(rows, [&](std::int64_t r) {
        kernels::cross_entropy_forward_row(kernels::serial_lanes{}, loss + r, lse + r, logits + r * vocab, targets[r],
                                           vocab, ignore_index);
    });
}

/// dlogits[r, :] = grad_scale * (softmax(logits[r, :]) - onehot(targets[r])), zeros if ignored.
inline void cross_entropy_backward(context&, float* dlogits, const float* logits, const float* lse,
                                   const std::int32_t* targets, float grad_scale, std::int64_t rows, std::int64_t vocab,
                                   std::int32_t ignore_index) {
    kernels::require_nonnegative("cross_entropy_backward", "rows", rows);
    kernels::require_positive("cross_entropy_backward", "vocab", vocab);
    kernels::require_pointers("cross_entropy_backward", rows,
                              {{"dlogits", dlogits}, {"logits", logits}, {"lse", lse}, {"targets", targets}});
    detail::check_targets("cross_entropy_backward", targets, rows, vocab, ignore_index);
    parallel_rows(rows, [&](std::int64_t r) {
        kernels::cross_entropy_backward_row(kernels::serial_lanes{}, dlogits + r * vocab, logits + r * vocab, lse[r],
                                            targets[r], grad_scale, vocab, ignore_index);
    });
}

}  // namespace hoprag::cpu
