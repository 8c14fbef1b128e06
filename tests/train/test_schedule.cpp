// Learning-rate schedules: exact values at the boundaries of warm-up and decay, mid-points against
// float64 formulas written out here, monotonicity, and clear errors for bad parameters.
#include <catch2/catch.hpp>

#include <cmath>

#include "hoprag/train/schedule.hpp"

using namespace hoprag;
using namespace hoprag::train;

namespace {
template <lr_schedule S>
float lr_at(const S& s, std::int64_t step) { return s.lr(step); }

struct not_a_schedule {
    float rate() const { return 0.0f; }
};
}  // namespace

static_assert(!lr_schedule<not_a_schedule>, "a type without lr(step) is not a schedule");

TEST_CASE("constant schedule", "[train][schedule]") {
    const constant_lr s{3e-4f};
    REQUIRE(lr_at(s, 0) == 3e-4f);
    REQUIRE(lr_at(s, 123456789) == 3e-4f);
}

TEST_CASE("linear warm-up then linear decay: boundaries", "[train][schedule]") {
    const warmup_linear_lr s{1.0f, 4, 12, 0.1f};
    REQUIRE(s.lr(0) == 0.25f);   // (0+1)/4
    REQUIRE(s.lr(1) == 0.5f);
    REQUIRE(s.lr(3) == 1.0f);    // last warm-up step is the peak
    REQUIRE(s.lr(4) == 1.0f);    // decay starts at the peak
    REQUIRE(s.lr(8) == static_cast<float>(0.1 + 0.9 * 0.5));  // half way
    REQUIRE(s.lr(12) == 0.1f);   // min_ratio * peak at total_steps
    REQUIRE(s.lr(1000) == 0.1f); // and after
    for (std::int64_t t = 4; t < 12; ++t) REQUIRE(s.lr(t + 1) < s.lr(t));
    const warmup_linear_lr no_warmup{2e-3f, 0, 10};
    REQUIRE(no_warmup.lr(0) == 2e-3f);
    REQUIRE(no_warmup.lr(5) == static_cast<float>(2e-3f * 0.5));
    REQUIRE(no_warmup.lr(10) == 0.0f);
}

TEST_CASE("linear warm-up then cosine decay: boundaries and mid-points", "[train][schedule]") {
    const float peak = 6e-4f;
    const warmup_cosine_lr s{peak, 10, 110, 0.1f};
    REQUIRE(s.lr(0) == static_cast<float>(peak * 0.1));
    REQUIRE(s.lr(9) == peak);
    REQUIRE(s.lr(10) == peak);
    REQUIRE(s.lr(60) == static_cast<float>(peak * (0.1 + 0.9 * 0.5)));  // cos(pi/2) = 0
    REQUIRE(s.lr(110) == static_cast<float>(peak * 0.1));
    REQUIRE(s.lr(5000) == static_cast<float>(peak * 0.1));
    for (std::int64_t t = 10; t < 110; ++t) {
        const double p = (t - 10) / 100.0;
        const double want = peak * (0.1 + 0.9 * 0.5 * (1 + std::cos(M_PI * p)));
        REQUIRE(s.lr(t) == Approx(want).epsilon(1e-6));
        REQUIRE(s.lr(t + 1) <= s.lr(t));
    }
    const warmup_cosine_lr only_warmup{1.0f, 5, 5};
    REQUIRE(only_warmup.lr(4) == 1.0f);
    REQUIRE(only_warmup.lr(5) == 0.0f);
}

TEST_CASE("schedules reject bad parameters", "[train][schedule]") {
    REQUIRE_THROWS_WITH(warmup_linear_lr(1e-3f, 10, 5), Catch::Contains("total_steps = 5") && Catch::Contains("warmup_steps = 10"));
    REQUIRE_THROWS_AS(warmup_cosine_lr(1e-3f, -1, 5), config_error);
    REQUIRE_THROWS_AS(warmup_cosine_lr(1e-3f, 1, 5, 1.5f), config_error);
    REQUIRE_THROWS_AS(warmup_linear_lr(-1.0f, 1, 5), config_error);
}
