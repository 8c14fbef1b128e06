// Curriculum schedules as types (DESIGN rule 5). A schedule decides, per (epoch, example), whether
// the bundle is forced to contain the gold passages. It satisfies `curriculum_schedule`:
//     bool force_gold(schedule_point p, float u) const;   // u: uniform in [0, 1), fixed per point
//     static constexpr std::string_view name;
// Provided: `forced_gold<E>` (gold forced for epochs 0..E-1, pure retrieval afterwards),
// `pure_retrieval` (never forced) and `annealed_mix` (forced for `hold` epochs, then with a
// probability falling linearly to 0 over `epochs` epochs: gold forced early, a mix, pure retrieval late).
#pragma once

#include <concepts>
#include <cstddef>
#include <string_view>

namespace hoprag::components {

/// Where training is: epoch (from 0), example index within the epoch, and examples per epoch.
struct schedule_point {
    std::size_t epoch = 0;
    std::size_t example = 0;
    std::size_t examples_per_epoch = 1;
};

/// Has `bool force_gold(schedule_point, float) const`.
template <class S>
concept has_force_gold = requires(const S& s, schedule_point p, float u) {
    { s.force_gold(p, u) } -> std::same_as<bool>;
};

/// Has `static constexpr std::string_view name`.
template <class S>
concept has_schedule_name = requires {
    { S::name } -> std::convertible_to<std::string_view>;
};

/// A curriculum schedule (see the file comment).
template <class S>
concept curriculum_schedule = has_force_gold<S> && has_schedule_name<S>;

/// Gold + hard negatives for the first `Epochs` epochs, then pure retrieval.
template <std::size_t Epochs>
struct forced_gold {
    static constexpr std::string_view name = "forced_gold";
    static constexpr std::size_t epochs = Epochs;
    [[nodiscard]] bool force_gold(schedule_point p, float) const { return p.epoch < Epochs; }
};

/// Always the retrieval top-k; the gold passages may be missing.
struct pure_retrieval {
    static constexpr std::string_view name = "pure_retrieval";
    [[nodiscard]] bool force_gold(schedule_point, float) const { return false; }
};

/// Gold forced for the first `hold` epochs, then with a probability falling linearly to 0 over the
/// next `epochs` epochs, then never (pure retrieval). Position t = epoch + example /
/// examples_per_epoch, in epochs: probability 1 for t < hold, 1 - (t - hold) / epochs after,
/// clamped at 0. Fractional values are fine (hold 0.5: gold forced in the first half of epoch 0).
struct annealed_mix {
    static constexpr std::string_view name = "annealed_mix";
    double epochs = 1;  ///< epochs over which the probability decays to 0 (<= 0: drops at once)
    double hold = 0;    ///< epochs at probability 1 before the decay starts

    [[nodiscard]] double probability(schedule_point p) const {
        const double n = double(p.examples_per_epoch ? p.examples_per_epoch : 1);
        const double t = double(p.epoch) + double(p.example) / n;
        if (t < hold) return 1;
        if (epochs <= 0) return 0;
        const double r = 1.0 - (t - hold) / epochs;
        return r > 0 ? r : 0;
    }
    [[nodiscard]] bool force_gold(schedule_point p, float u) const { return double(u) < probability(p); }
};

}  // namespace hoprag::components
