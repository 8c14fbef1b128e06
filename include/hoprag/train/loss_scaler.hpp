// Dynamic loss scaling for fp16 training (Micikevicius et al., "Mixed Precision Training", 2018).
// The loss is multiplied by scale() before backward so small fp16 gradients do not flush to zero.
// After backward, `check` sums the squares of the stored gradients on the backend (one reduction
// that also detects inf/NaN) and `update` decides: non-finite -> skip the optimiser step, count it,
// back off (scale x backoff_factor); finite -> apply the step and, after growth_interval
// consecutive good steps, grow (scale x growth_factor). The unscaling itself costs nothing: it is
// folded into adamw_step::grad_scale (see gradients.hpp). `no_loss_scaler` is the drop-in for
// f32/bf16 training (scale 1, never skips). Both satisfy the concept `loss_scaler`.
#pragma once

#include <cmath>
#include <concepts>
#include <cstdint>
#include <span>
#include <string>

#include "hoprag/core/error.hpp"
#include "hoprag/train/gradients.hpp"

namespace hoprag::train {

/// A loss-scaling policy: the current scale, and the decision for a step given whether the
/// gradients were finite (true = apply the step).
template <class S>
concept loss_scaler = requires(S& s, const S& cs, bool finite, std::int64_t step) {
    { cs.scale() } -> std::convertible_to<float>;
    { s.update(finite, step) } -> std::same_as<bool>;
};

struct loss_scaler_options {
    float initial_scale = 65536.0f;       // 2^16
    float growth_factor = 2.0f;
    float backoff_factor = 0.5f;
    std::int64_t growth_interval = 2000;  // consecutive finite steps before growing
    float min_scale = 1.0f;               // backing off never goes below this
    float max_scale = 16777216.0f;        // 2^24; growing never goes above this
    std::int64_t max_consecutive_skips = 0;  // > 0: update throws after this many skips in a row
};

/// Scaler state for checkpoints (exact resume).
struct loss_scaler_state {
    float scale = 65536.0f;
    std::int64_t good_steps = 0;     // consecutive finite steps since the last change of scale
    std::int64_t skipped_steps = 0;  // total steps skipped for inf/NaN gradients
    std::int64_t consecutive_skips = 0;
};

class dynamic_loss_scaler {
public:
    explicit dynamic_loss_scaler(loss_scaler_options o = {}) : opt_(o) {
        auto bad = [](const std::string& what) { throw config_error("dynamic_loss_scaler: " + what); };
        if (!(o.initial_scale > 0.0f) || !std::isfinite(o.initial_scale)) bad("initial_scale must be finite and > 0");
        if (!(o.growth_factor >= 1.0f)) bad("growth_factor = " + std::to_string(o.growth_factor) + " must be >= 1");
        if (!(o.backoff_factor > 0.0f && o.backoff_factor < 1.0f)) bad("backoff_factor = " + std::to_string(o.backoff_factor) + " must be in (0, 1)");
        if (o.growth_interval < 1) bad("growth_interval = " + std::to_string(o.growth_interval) + " must be >= 1");
        if (!(o.min_scale > 0.0f && o.min_scale <= o.max_scale)) bad("need 0 < min_scale <= max_scale");
        st_.scale = o.initial_scale < o.min_scale ? o.min_scale : (o.initial_scale > o.max_scale ? o.max_scale : o.initial_scale);
    }

    /// Multiply the loss (or the loss gradient fed to backward) by this.
    float scale() const { return st_.scale; }

    /// Inspect the stored gradients (loss_scale * sum over accum_steps micro-batches): finiteness,
    /// true global norm, and the grad_scale that unscales, averages and clips (max_norm <= 0: off).
    template <class Context>
    grad_report check(Context& ctx, std::span<const adamw_tensor> tensors, double max_norm = 0.0, std::int64_t accum_steps = 1) const {
        return inspect_grads(ctx, tensors, st_.scale, max_norm, accum_steps);
    }

    /// Record the outcome of a step. Returns true when the optimiser step should be applied.
    /// Non-finite: counts a skip and backs off; finite: after growth_interval good steps, grows.
    /// Throws hoprag::error naming `step` when max_consecutive_skips is exceeded.
    bool update(bool grads_finite, std::int64_t step = -1) {
        if (!grads_finite) {
            ++st_.skipped_steps;
            ++st_.consecutive_skips;
            st_.good_steps = 0;
            const float s = st_.scale * opt_.backoff_factor;
            st_.scale = s < opt_.min_scale ? opt_.min_scale : s;
            if (opt_.max_consecutive_skips > 0 && st_.consecutive_skips > opt_.max_consecutive_skips)
                throw error("dynamic_loss_scaler: gradients were inf/NaN for " + std::to_string(st_.consecutive_skips) +
                            " steps in a row (last at step " + std::to_string(step) + ", loss scale now " + std::to_string(st_.scale) +
                            "); the loss itself is probably NaN: lower the learning rate or check the data");
            return false;
        }
        st_.consecutive_skips = 0;
        if (++st_.good_steps >= opt_.growth_interval) {
            const float s = st_.scale * opt_.growth_factor;
            st_.scale = s > opt_.max_scale ? opt_.max_scale : s;
            st_.good_steps = 0;
        }
        return true;
    }

    std::int64_t skipped_steps() const { return st_.skipped_steps; }
    std::int64_t consecutive_skips() const { return st_.consecutive_skips; }
    const loss_scaler_state& state() const { return st_; }
    /// Restore a state saved with state() (checkpoint resume).
    void restore(const loss_scaler_state& s) {
        if (!(s.scale > 0.0f) || !std::isfinite(s.scale) || s.good_steps < 0 || s.skipped_steps < 0 || s.consecutive_skips < 0)
            throw config_error("dynamic_loss_scaler: restored state is invalid (scale " + std::to_string(s.scale) + ")");
        st_ = s;
    }

private:
    loss_scaler_options opt_;
    loss_scaler_state st_;
};

/// For f32/bf16 training: scale 1; a step with non-finite gradients is still skipped and counted.
class no_loss_scaler {
public:
    float scale() const { return 1.0f; }
    template <class Context>
    grad_report check(Context& ctx, std::span<const adamw_tensor> tensors, double max_norm = 0.0, std::int64_t accum_steps = 1) const {
        return inspect_grads(ctx, tensors, 1.0f, max_norm, accum_steps);
    }
    bool update(bool grads_finite, std::int64_t = -1) {
        if (!grads_finite) ++skipped_;
        return grads_finite;
    }
    std::int64_t skipped_steps() const { return skipped_; }

private:
    std::int64_t skipped_ = 0;
};

static_assert(loss_scaler<dynamic_loss_scaler> && loss_scaler<no_loss_scaler>);

}  // namespace hoprag::train
