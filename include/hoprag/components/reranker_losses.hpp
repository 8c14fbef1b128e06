// Reranker losses as policy types (DESIGN rule 5). Every loss scores one candidate GROUP: the
// logits s[0..n] of a question's positive passage (s[0]) and n >= 1 negatives (s[1..n]), and
// returns the group's loss with d loss / d s written to `ds`:
//   margin_loss   mean_j max(0, m - (s0 - sj))                         (pairwise hinge, m = 1)
//   softmax_loss  logsumexp(s) - s0                                    (cross-entropy, target 0)
//   bce_loss      mean_i softplus(si) - yi si,  y0 = 1, yj = 0          (pointwise BCE)
// Groups are a handful of logits: the bodies run on the host, in float64 internally.
#pragma once

#include <cmath>
#include <concepts>
#include <cstdint>
#include <span>
#include <string_view>


namespace hoprag::components {

/// A reranker loss: a name and `l.group(logits, dlogits)` -> the group's loss (see the file
/// comment for the group layout). dlogits has logits.size() entries and is written.
template <class L>
concept reranker_loss = requires(const L& l, std::span<const float> s, std::span<float> ds) {
    { L::name } -> std::convertible_to<std::string_view>;
    { l.group(s, ds) } -> std::convertible_to<double>;
};

/// Pairwise hinge on positive minus negative, averaged over the negatives.
struct margin_loss {
    static constexpr std::string_view name = "margin";
    double margin = 1.0;
    double group(std::span<const float> s, std::span<float> ds) const {
        const std::size_t n = s.size() - 1;
        double loss = 0.0, d0 = 0.0;
        for (std::size_t j = 1; j <= n; ++j) {
            const double v = margin - (double(s[0]) - double(s[j]));
            const bool on = v > 0.0;
            loss += on ? v : 0.0;
            ds[j] = static_cast<float>(on ? 1.0 / double(n) : 0.0);
            d0 -= on ? 1.0 / double(n) : 0.0;
        }
        ds[0] = static_cast<float>(d0);
        return loss / double(n);
    }
};

/// Softmax cross-entropy over the group with the positive as target.
struct softmax_loss {
    static constexpr std::string_view name = "softmax";
    double group(std::span<const float> s, std::span<float> ds) const {
        double mx = s[0];
        for (float v : s) mx = v > mx ? v : mx;
        double sum = 0.0;
        for (float v : s) sum += std::exp(double(v) - mx);
        const double lse = mx + std::log(sum);
        for (std::size_t i = 0; i < s.size(); ++i) ds[i] = static_cast<float>(std::exp(double(s[i]) - lse) - (i == 0 ? 1.0 : 0.0));
        return lse - double(s[0]);
    }
};

/// Pointwise binary cross-entropy with logits (label 1 for the positive, 0 for negatives), averaged.
struct bce_loss {
    static constexpr std::string_view name = "bce";
    double group(std::span<const float> s, std::span<float> ds) const {
        const double n = double(s.size());
        double loss = 0.0;
        for (std::size_t i = 0; i < s.size(); ++i) {
            const double x = s[i], y = i == 0 ? 1.0 : 0.0;
            const double softplus = x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
            const double sigmoid = x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x));
            loss += softplus - y * x;
            ds[i] = static_cast<float>((sigmoid - y) / n);
        }
        return loss / n;
    }
};

static_assert(reranker_loss<margin_loss> && reranker_loss<softmax_loss> && reranker_loss<bce_loss>);

}  // namespace hoprag::components
