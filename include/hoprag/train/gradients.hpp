// Gradient handling between backward and the optimiser step: global-norm clipping, the inf/NaN
// check of dynamic loss scaling and gradient accumulation, folded into ONE multiplier that AdamW
// applies as it reads each gradient (adamw_step::grad_scale), so no extra pass rescales buffers.
// The backend supplies `sum_squares(ctx, x, n)` (found by argument-dependent lookup), so these
// helpers work for cpu::context and cuda::context alike.
//
// Gradient accumulation pattern (backward ops ACCUMULATE parameter gradients, dw += ...):
//   grad_accumulation acc{k};
//   for each micro-batch:
//       if (acc.window_start()) zero_fill(ctx, grad, n) for every tensor;
//       forward; backward (scaled by the loss scale when using fp16);
//       if (!acc.micro_step()) continue;          // not the k-th micro-batch yet
//       auto r = inspect_grads(ctx, tensors, scaler.scale(), max_norm, acc.steps());
//       if (scaler.update(r.finite)) adamw_update(ctx, tensors, make_adamw_step(h, ++t, lr, r.grad_scale));
// inspect_grads divides by k, so the step uses the mean gradient over the window.
#pragma once

#include <cmath>
#include <cstdint>
#include <span>
#include <string>

#include "hoprag/core/error.hpp"
#include "hoprag/train/adamw.hpp"

namespace hoprag::train {

/// torch.nn.utils.clip_grad_norm_'s coefficient: min(1, max_norm / (norm + 1e-6)); 1 when
/// max_norm <= 0 (clipping off) or norm is not finite (the step is skipped anyway).
inline double clip_coefficient(double norm, double max_norm) {
    if (!(max_norm > 0.0) || !std::isfinite(norm)) return 1.0;
    const double c = max_norm / (norm + 1e-6);
    return c < 1.0 ? c : 1.0;
}

/// Sum of squares of every tensor's gradient buffer (as stored, before any scaling), in double.
template <class Context>
double grad_sum_squares(Context& ctx, std::span<const adamw_tensor> tensors) {
    double total = 0.0;
    for (const auto& t : tensors) {
        validate(t);
        if (t.n > 0) total += sum_squares(ctx, t.grad, t.n);
    }
    return total;
}

/// What the step should do with the stored gradients.
struct grad_report {
    bool finite = true;      // false: some gradient is inf/NaN -> skip the step
    double norm = 0.0;       // global L2 norm of the true (unscaled, averaged) gradient
    double clip = 1.0;       // clipping coefficient applied (1 = not clipped)
    float grad_scale = 1.0f; // multiplier for adamw_step: clip / (loss_scale * accum_steps)
};

/// Inspect the stored gradients, which hold loss_scale * (sum over `accum_steps` micro-batches):
/// reports whether they are finite, the global norm of the mean unscaled gradient and the single
/// multiplier that unscales, averages and clips them (max_norm <= 0: no clipping).
template <class Context>
grad_report inspect_grads(Context& ctx, std::span<const adamw_tensor> tensors, float loss_scale = 1.0f, double max_norm = 0.0,
                          std::int64_t accum_steps = 1) {
    if (!(loss_scale > 0.0f) || !std::isfinite(loss_scale))
        throw config_error("inspect_grads: loss scale " + std::to_string(loss_scale) + " is invalid; expected a finite value > 0");
    if (accum_steps < 1)
        throw config_error("inspect_grads: accum_steps = " + std::to_string(accum_steps) + " is invalid; expected >= 1");
    grad_report r;
    const double sumsq = grad_sum_squares(ctx, tensors);
    r.finite = std::isfinite(sumsq);
    const double divisor = static_cast<double>(loss_scale) * static_cast<double>(accum_steps);
    r.norm = r.finite ? std::sqrt(sumsq) / divisor : INFINITY;
    r.clip = clip_coefficient(r.norm, max_norm);
    r.grad_scale = static_cast<float>(r.clip / divisor);
    return r;
}

/// Counts micro-batches of a gradient-accumulation window of `steps` micro-batches.
class grad_accumulation {
public:
    explicit grad_accumulation(std::int64_t steps = 1) : steps_(steps) {
        if (steps < 1) throw config_error("grad_accumulation: steps = " + std::to_string(steps) + " is invalid; expected >= 1");
    }
    /// True before the first micro-batch of a window: zero the gradient buffers now.
    bool window_start() const { return done_ == 0; }
    /// Record one finished backward pass; true when the window is complete (take the optimiser
    /// step now), after which the next window starts.
    bool micro_step() {
        if (++done_ < steps_) return false;
        done_ = 0;
        return true;
    }
    std::int64_t steps() const { return steps_; }
    /// Micro-batches already accumulated in the current window (for checkpoints).
    std::int64_t done() const { return done_; }

private:
    std::int64_t steps_;
    std::int64_t done_ = 0;
};

}  // namespace hoprag::train
