// Dynamic loss scaling: skip + back-off on inf/NaN found by the backend reduction, growth after N
// good steps, clamps, skip counting, the consecutive-skip error, state restore, and an emulated
// fp16 backward whose gradients overflow until the scale has backed off enough.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "hoprag/cpu/adamw.hpp"
#include "hoprag/train/loss_scaler.hpp"

using namespace hoprag;
using namespace hoprag::train;

TEST_CASE("dynamic loss scaler backs off, grows and counts skipped steps", "[train][loss_scaler]") {
    loss_scaler_options o;
    o.initial_scale = 1024.0f;
    o.growth_interval = 3;
    dynamic_loss_scaler s{o};
    REQUIRE(s.scale() == 1024.0f);
    REQUIRE_FALSE(s.update(false));
    REQUIRE(s.scale() == 512.0f);
    REQUIRE(s.skipped_steps() == 1);
    REQUIRE(s.update(true));
    REQUIRE(s.update(true));
    REQUIRE(s.scale() == 512.0f);
    REQUIRE(s.update(true));  // third good step in a row: grow
    REQUIRE(s.scale() == 1024.0f);
    REQUIRE(s.update(true));
    REQUIRE(s.update(true));
    REQUIRE_FALSE(s.update(false));  // a skip resets the good-step count
    REQUIRE(s.scale() == 512.0f);
    REQUIRE(s.update(true));
    REQUIRE(s.update(true));
    REQUIRE(s.scale() == 512.0f);
    REQUIRE(s.skipped_steps() == 2);
}

TEST_CASE("dynamic loss scaler clamps, restores and stops on endless NaN", "[train][loss_scaler]") {
    loss_scaler_options o;
    o.initial_scale = 4.0f;
    o.min_scale = 2.0f;
    o.max_scale = 8.0f;
    o.growth_interval = 1;
    o.max_consecutive_skips = 3;
    dynamic_loss_scaler s{o};
    s.update(true);
    s.update(true);
    REQUIRE(s.scale() == 8.0f);  // capped
    s.update(false);
    s.update(false);
    s.update(false);
    REQUIRE(s.scale() == 2.0f);  // floored
    REQUIRE_THROWS_WITH(s.update(false, 77), Catch::Contains("4 steps in a row") && Catch::Contains("step 77"));
    loss_scaler_state st{256.0f, 5, 9, 0};
    s.restore(st);
    REQUIRE(s.scale() == 256.0f);
    REQUIRE(s.skipped_steps() == 9);
    REQUIRE_THROWS_AS(s.restore(loss_scaler_state{-1.0f, 0, 0, 0}), config_error);
    REQUIRE_THROWS_AS(dynamic_loss_scaler(loss_scaler_options{1.0f, 2.0f, 1.5f}), config_error);
    no_loss_scaler none;
    REQUIRE(none.scale() == 1.0f);
    REQUIRE_FALSE(none.update(false));
    REQUIRE(none.update(true));
    REQUIRE(none.skipped_steps() == 1);
}

TEST_CASE("emulated fp16 backward: overflowing gradients are skipped until the scale fits", "[train][loss_scaler]") {
    cpu::context ctx;
    const std::vector<float> true_grad{2.0f, -0.5f, 1e-8f};  // 1e-8 rounds to zero in fp16 without scaling
    std::vector<float> w{1.0f, 1.0f, 1.0f}, m(3, 0.0f), v(3, 0.0f), g(3);
    adamw_tensor t{w.data(), m.data(), v.data(), g.data(), 3};
    loss_scaler_options o;  // initial 65536: 2 * 65536 overflows fp16 (max 65504)
    o.growth_interval = 1000;
    dynamic_loss_scaler s{o};
    std::int64_t applied = 0;
    for (int step = 0; step < 4; ++step) {
        for (int i = 0; i < 3; ++i) g[i] = f16::from_float(true_grad[i] * s.scale()).to_float();  // fp16 backward
        const auto r = s.check(ctx, std::span<const adamw_tensor>(&t, 1));
        if (s.update(r.finite, step)) {
            ++applied;
            REQUIRE(r.norm == Approx(std::sqrt(4.0 + 0.25)).epsilon(1e-3));
            REQUIRE(f16::from_float(1e-8f).to_float() == 0.0f);
            REQUIRE(g[2] * r.grad_scale == Approx(1e-8).epsilon(1e-2));  // survived thanks to the scale
            cpu::adamw_update(ctx, t, make_adamw_step(adamw_hparams{}, applied, 1e-3f, r.grad_scale));
        }
    }
    // 65536: inf, 32768: 2*32768 = 65536 > 65504 -> inf, 16384: fits
    REQUIRE(s.skipped_steps() == 2);
    REQUIRE(s.scale() == 16384.0f);
    REQUIRE(applied == 2);
    REQUIRE(w[0] < 1.0f);
    REQUIRE(std::isfinite(w[0]));
}
