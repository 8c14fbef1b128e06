// Mixed precision of the trainers by hardware profile (backend/profile.hpp): a training config with
// a GEMM compute type (`compute`: auto, f32, bf16 or f16) and a loss scale (`loss_scale`, 0: off)
// is settled for a profile by with_precision: auto becomes the profile's compute type (cpu f32,
// t4 f16, a100 / h100 bf16), and f16 without a loss scale gets dynamic loss scaling from 2^16,
// since small f16 gradients flush to zero without it. advance_scaler moves the dynamic scaler whose
// state the training loop checkpoints (training_state::scaler) after each optimiser window.
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>

#include "hoprag/backend/compute_gemm.hpp"
#include "hoprag/backend/profile.hpp"
#include "hoprag/core/error.hpp"
#include "hoprag/train/loss_scaler.hpp"

namespace hoprag::train {

/// Initial dynamic loss scale of an f16 run that gives no loss scale.
inline constexpr double default_f16_loss_scale = 65536.0;

/// A training config with the two precision fields.
template <class C>
concept precision_config = requires(C& c) {
    { c.compute } -> std::convertible_to<std::string>;
    { c.loss_scale } -> std::convertible_to<double>;
};

/// Throws config_error (naming the flags) for a compute type other than auto|f32|bf16|f16 or a
/// loss scale that is not a finite value >= 0.
inline void validate_precision(std::string_view compute, double loss_scale) {
    if (!(loss_scale >= 0) || !std::isfinite(loss_scale)) throw config_error("need a finite --loss-scale >= 0 (0: off)");
    if (compute == "auto") return;
    try {
        (void)parse_compute_type(compute);
    } catch (const config_error&) {
        throw config_error("--compute must be auto, f32, bf16 or f16, got '" + std::string(compute) + "'");
    }
}

/// `c` with its precision settled for profile `p` (see the header).
template <precision_config C>
C with_precision(C c, const profile_info& p) {
    if (c.compute == "auto") c.compute = std::string(dtype_name(p.compute_type));
    if (c.compute == dtype_name(dtype::f16) && c.loss_scale == 0) c.loss_scale = default_f16_loss_scale;
    return c;
}

/// The dynamic scaler of a run whose loss scale starts at s > 0 (it may grow to 2^24 or s).
inline loss_scaler_options scaler_options(double s) {
    const auto f = static_cast<float>(s);
    return {.initial_scale = f, .max_scale = std::max(f, 16777216.0f)};
}

/// Advances the scaler state `s` after the window of optimiser step `step` had `finite` gradients.
/// The loop counts the skipped steps (it skips and logs a non-finite step), so that count is kept.
inline void advance_scaler(loss_scaler_state& s, bool finite, std::int64_t step, const loss_scaler_options& o) {
    dynamic_loss_scaler sc(o);
    sc.restore(s);
    sc.update(finite, step);
    const auto skipped = s.skipped_steps;
    s = sc.state();
    s.skipped_steps = skipped;
}

}  // namespace hoprag::train
