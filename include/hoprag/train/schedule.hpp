// Learning-rate schedules as policy types (DESIGN rule 5). A schedule maps the 0-based index of
// the optimiser step about to be taken to its learning rate; anything with
// `float lr(std::int64_t step) const` satisfies the concept `lr_schedule`. Provided: constant;
// linear warm-up then linear decay; linear warm-up then cosine decay, both decaying to
// `min_ratio * peak`. Warm-up ramps (step + 1) / warmup_steps * peak, so the first step already
// moves the weights and step warmup_steps - 1 runs at the peak; decay then runs from the peak at
// step warmup_steps to min_ratio * peak at step total_steps, and stays there after it.
// Arithmetic is in double, rounded once to float, so values are identical on every platform.
#pragma once

#include <cmath>
#include <concepts>
#include <cstdint>
#include <numbers>
#include <string>

#include "hoprag/core/error.hpp"

namespace hoprag::train {

/// A learning-rate schedule: s.lr(step) is the learning rate of 0-based optimiser step `step`.
template <class S>
concept lr_schedule = requires(const S& s, std::int64_t step) {
    { s.lr(step) } -> std::convertible_to<float>;
};

/// The same learning rate at every step.
struct constant_lr {
    float value = 1e-3f;
    float lr(std::int64_t) const { return value; }
};

namespace detail {
inline void validate_warmup_decay(const char* what, float peak, std::int64_t warmup, std::int64_t total, float min_ratio) {
    const std::string who = std::string(what) + ": ";
    if (!(peak >= 0.0f) || !std::isfinite(peak)) throw config_error(who + "peak learning rate " + std::to_string(peak) + " is invalid; expected a finite value >= 0");
    if (warmup < 0) throw config_error(who + "warmup_steps = " + std::to_string(warmup) + " is invalid; expected >= 0");
    if (total < warmup)
        throw config_error(who + "total_steps = " + std::to_string(total) + " is smaller than warmup_steps = " + std::to_string(warmup));
    if (!(min_ratio >= 0.0f && min_ratio <= 1.0f))
        throw config_error(who + "min_ratio = " + std::to_string(min_ratio) + " is invalid; expected 0 <= min_ratio <= 1");
}

/// Fraction of warm-up reached at `step` ((step+1)/warmup), or -1 when past warm-up.
inline double warmup_fraction(std::int64_t step, std::int64_t warmup) {
    if (step < 0) step = 0;
    return step < warmup ? static_cast<double>(step + 1) / static_cast<double>(warmup) : -1.0;
}

/// Decay progress in [0, 1] at `step` (0 at warmup, 1 at total and after).
inline double decay_progress(std::int64_t step, std::int64_t warmup, std::int64_t total) {
    if (step >= total) return 1.0;
    return static_cast<double>(step - warmup) / static_cast<double>(total - warmup);
}
}  // namespace detail

/// Linear warm-up over `warmup_steps`, then linear decay to min_ratio * peak at `total_steps`.
struct warmup_linear_lr {
    float peak = 1e-3f;
    std::int64_t warmup_steps = 0;
    std::int64_t total_steps = 1;
    float min_ratio = 0.0f;

    warmup_linear_lr(float peak_lr, std::int64_t warmup, std::int64_t total, float min = 0.0f)
        : peak(peak_lr), warmup_steps(warmup), total_steps(total), min_ratio(min) {
        detail::validate_warmup_decay("warmup_linear_lr", peak, warmup, total, min);
    }
    float lr(std::int64_t step) const {
        const double w = detail::warmup_fraction(step, warmup_steps);
        if (w >= 0.0) return static_cast<float>(peak * w);
        const double p = detail::decay_progress(step, warmup_steps, total_steps);
        return static_cast<float>(peak * (min_ratio + (1.0 - min_ratio) * (1.0 - p)));
    }
};

/// Linear warm-up over `warmup_steps`, then half a cosine from peak to min_ratio * peak at
/// `total_steps`.
struct warmup_cosine_lr {
    float peak = 1e-3f;
    std::int64_t warmup_steps = 0;
    std::int64_t total_steps = 1;
    float min_ratio = 0.0f;

    warmup_cosine_lr(float peak_lr, std::int64_t warmup, std::int64_t total, float min = 0.0f)
        : peak(peak_lr), warmup_steps(warmup), total_steps(total), min_ratio(min) {
        detail::validate_warmup_decay("warmup_cosine_lr", peak, warmup, total, min);
    }
    float lr(std::int64_t step) const {
        const double w = detail::warmup_fraction(step, warmup_steps);
        if (w >= 0.0) return static_cast<float>(peak * w);
        const double p = detail::decay_progress(step, warmup_steps, total_steps);
        return static_cast<float>(peak * (min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + std::cos(std::numbers::pi * p))));
    }
};

static_assert(lr_schedule<constant_lr> && lr_schedule<warmup_linear_lr> && lr_schedule<warmup_cosine_lr>);

}  // namespace hoprag::train
