// Next-token choice from host logits: greedy (temperature 0) or sampling with temperature and
// nucleus (top-p) truncation, drawing one Philox uniform per step, so a (seed, step) pair always
// gives the same token on every backend and thread count.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include "hoprag/core/error.hpp"
#include "hoprag/core/rng.hpp"

namespace hoprag::models::llama {

struct sampling_options {
    float temperature = 0.0f;  // 0 = greedy
    float top_p = 1.0f;        // keep the smallest set of tokens whose probability reaches top_p
    std::uint64_t seed = 0;

    void validate() const {
        if (!(temperature >= 0.0f) || !std::isfinite(temperature))
            throw config_error("sampling: temperature must be a finite number >= 0, got " + std::to_string(temperature));
        if (!(top_p > 0.0f && top_p <= 1.0f)) throw config_error("sampling: top_p must be in (0, 1], got " + std::to_string(top_p));
    }
};

/// Index of the largest logit (the lowest index among ties; NaN never wins).
inline std::int32_t argmax(std::span<const float> logits) {
    std::int32_t best = 0;
    for (std::size_t i = 1; i < logits.size(); ++i)
        if (logits[i] > logits[static_cast<std::size_t>(best)]) best = static_cast<std::int32_t>(i);
    return best;
}

/// The token for decode step `step` from logits [vocab]: argmax when temperature == 0, otherwise a
/// draw from softmax(logits / temperature) restricted to the top-p nucleus, using uniform number
/// `step` of Philox stream (seed, 0x5a3e).
inline std::int32_t sample_token(std::span<const float> logits, const sampling_options& o, std::uint64_t step) {
    o.validate();
    if (logits.empty()) throw shape_error("sample_token: empty logits");
    if (o.temperature == 0.0f) return argmax(logits);
    std::vector<std::int32_t> order(logits.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](std::int32_t a, std::int32_t b) {
        const float la = logits[static_cast<std::size_t>(a)], lb = logits[static_cast<std::size_t>(b)];
        return la > lb || (la == lb && a < b);
    });
    const double top = logits[static_cast<std::size_t>(order[0])];
    std::vector<double> p(order.size());
    double z = 0.0;
    for (std::size_t i = 0; i < order.size(); ++i) z += p[i] = std::exp((logits[static_cast<std::size_t>(order[i])] - top) / o.temperature);
    std::size_t keep = 0;
    double mass = 0.0;
    while (keep < p.size() && (keep == 0 || mass < o.top_p * z)) mass += p[keep++];
    const double u = philox_stream{o.seed, 0x5a3e}.uniform(step) * mass;
    double acc = 0.0;
    for (std::size_t i = 0; i < keep; ++i)
        if ((acc += p[i]) > u) return order[i];
    return order[keep - 1];
}

}  // namespace hoprag::models::llama
