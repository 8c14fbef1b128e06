// AdamW on the CPU backend against a float64 AdamW written plainly below (several steps, a varying
// learning rate, decay on/off, bias correction, grad_scale), plus the gradient helpers: sum of
// squares vs float64, inf/NaN detection, clipping and accumulation folded into grad_scale.
#include <catch2/catch.hpp>

#include <omp.h>

#include <cmath>
#include <limits>
#include <vector>

#include "hoprag/cpu/backend.hpp"
#include "hoprag/train/gradients.hpp"
#include "support/reference.hpp"

using namespace hoprag;
using hoprag::test::random_floats;
using hoprag::test::require_close;

namespace {

// Float64 AdamW (torch.optim.AdamW semantics), one step at step number t (1-based).
struct reference_adamw {
    std::vector<double> w, m, v;
    void step(const std::vector<float>& grad, int t, double lr, double b1, double b2, double eps, double wd, double gscale) {
        for (std::size_t i = 0; i < w.size(); ++i) {
            const double g = static_cast<double>(grad[i]) * gscale;
            m[i] = b1 * m[i] + (1 - b1) * g;
            v[i] = b2 * v[i] + (1 - b2) * g * g;
            const double m_hat = m[i] / (1 - std::pow(b1, t));
            const double v_hat = v[i] / (1 - std::pow(b2, t));
            w[i] = w[i] - lr * wd * w[i] - lr * m_hat / (std::sqrt(v_hat) + eps);
        }
    }
};

struct cpu_tensor {
    std::vector<float> w, m, v, g;
    train::adamw_tensor view(bool decay) {
        train::adamw_tensor t;
        t.param = w.data();
        t.m = m.data();
        t.v = v.data();
        t.grad = g.data();
        t.n = static_cast<std::int64_t>(w.size());
        t.decay = decay;
        t.name = "test";
        return t;
    }
};

}  // namespace

TEST_CASE("AdamW matches a float64 reference over several steps", "[train][adamw]") {
    cpu::context ctx;
    const train::adamw_hparams h{0.9f, 0.95f, 1e-8f, 0.1f};
    for (std::int64_t n : {1, 2, 3, 17, 255, 4097}) {
        for (bool decay : {true, false}) {
            for (float gscale : {1.0f, 0.25f}) {
                INFO("n = " << n << " decay = " << decay << " grad_scale = " << gscale);
                cpu_tensor c;
                c.w = random_floats(n, 11, -2.0f, 2.0f);
                c.m.assign(n, 0.0f);
                c.v.assign(n, 0.0f);
                reference_adamw ref{test::to_double(c.w), std::vector<double>(n, 0.0), std::vector<double>(n, 0.0)};
                for (int t = 1; t <= 6; ++t) {
                    c.g = random_floats(n, 12, -1.0f, 1.0f, static_cast<std::uint64_t>(t));
                    const float lr = 1e-2f / static_cast<float>(t);  // a changing learning rate
                    cpu::adamw_update(ctx, c.view(decay), train::make_adamw_step(h, t, lr, gscale));
                    ref.step(c.g, t, lr, 0.9, 0.95, 1e-8, decay ? 0.1 : 0.0, gscale);
                }
                require_close(c.w, ref.w, 1e-5, 1e-6, "weights");
                require_close(c.m, ref.m, 1e-5, 1e-7, "first moment");
                require_close(c.v, ref.v, 1e-5, 1e-8, "second moment");
            }
        }
    }
}

TEST_CASE("AdamW first step is lr * sign(g) thanks to bias correction, plus decoupled decay", "[train][adamw]") {
    cpu::context ctx;
    const train::adamw_hparams h{0.9f, 0.999f, 1e-8f, 0.5f};
    cpu_tensor c;
    c.w = {1.0f, -2.0f, 0.5f};
    c.g = {0.3f, -4.0f, 1e-3f};
    c.m.assign(3, 0.0f);
    c.v.assign(3, 0.0f);
    cpu::adamw_update(ctx, c.view(true), train::make_adamw_step(h, 1, 0.1f));
    // w - lr*wd*w - lr*sign(g): without bias correction the step would be (1-b1)/sqrt(1-b2) ~ 3.2x larger
    const std::vector<double> want{1.0 - 0.05 - 0.1, -2.0 + 0.1 + 0.1, 0.5 - 0.025 - 0.1};
    require_close(c.w, want, 1e-5, 1e-5, "first step");
}

TEST_CASE("AdamW decay mask and zero-size tensors", "[train][adamw]") {
    cpu::context ctx;
    const train::adamw_hparams h{0.9f, 0.999f, 1e-8f, 0.2f};
    cpu_tensor a, b;
    a.w = b.w = {2.0f, -3.0f};
    a.g = b.g = {0.0f, 0.0f};  // zero gradient: only decay moves the weights
    a.m = a.v = b.m = b.v = {0.0f, 0.0f};
    const std::vector<train::adamw_tensor> both{a.view(true), b.view(false)};
    cpu::adamw_update(ctx, both, train::make_adamw_step(h, 1, 0.5f));
    require_close(a.w, std::vector<double>{2.0 * 0.9, -3.0 * 0.9}, 1e-6, 0.0, "decayed");
    REQUIRE(b.w == std::vector<float>{2.0f, -3.0f});
    train::adamw_tensor empty;
    REQUIRE_NOTHROW(cpu::adamw_update(ctx, empty, train::make_adamw_step(h, 1, 0.5f)));
}

TEST_CASE("AdamW writes bf16 and f16 copies of the updated master weights", "[train][adamw]") {
    cpu::context ctx;
    const train::adamw_hparams h{};
    for (dtype low : {dtype::bf16, dtype::f16}) {
        cpu_tensor c;
        const std::int64_t n = 301;
        c.w = random_floats(n, 3, -3.0f, 3.0f);
        c.g = random_floats(n, 4);
        c.m.assign(n, 0.0f);
        c.v.assign(n, 0.0f);
        std::vector<std::uint16_t> copy(n, 0xffff);
        auto t = c.view(true);
        t.low_copy = copy.data();
        t.low_type = low;
        cpu::adamw_update(ctx, t, train::make_adamw_step(h, 1, 1e-3f));
        for (std::int64_t i = 0; i < n; ++i) {
            const std::uint16_t want = low == dtype::bf16 ? bf16::from_float(c.w[i]).bits : f16::from_float(c.w[i]).bits;
            REQUIRE(copy[i] == want);
        }
    }
}

TEST_CASE("AdamW rejects bad hyper-parameters and descriptors with clear errors", "[train][adamw]") {
    cpu::context ctx;
    REQUIRE_THROWS_AS(train::make_adamw_step(train::adamw_hparams{1.0f, 0.999f, 1e-8f, 0.0f}, 1, 1e-3f), config_error);
    REQUIRE_THROWS_AS(train::make_adamw_step(train::adamw_hparams{0.9f, 0.999f, 0.0f, 0.0f}, 1, 1e-3f), config_error);
    REQUIRE_THROWS_WITH(train::make_adamw_step(train::adamw_hparams{}, 0, 1e-3f), Catch::Contains("first step is t = 1"));
    REQUIRE_THROWS_AS(train::make_adamw_step(train::adamw_hparams{}, 1, std::numeric_limits<float>::quiet_NaN()), config_error);
    train::adamw_tensor t;
    t.n = 4;
    t.name = "layer0.weight";
    REQUIRE_THROWS_WITH(cpu::adamw_update(ctx, t, train::adamw_step{}), Catch::Contains("layer0.weight"));
    std::vector<float> x(4);
    t.param = t.m = t.v = x.data();
    t.grad = x.data();
    t.low_copy = x.data();
    t.low_type = dtype::i32;
    REQUIRE_THROWS_AS(cpu::adamw_update(ctx, t, train::adamw_step{}), config_error);
}

TEST_CASE("sum_squares matches float64, flags inf/NaN and is thread-count independent", "[train][grad]") {
    cpu::context ctx;
    for (std::int64_t n : {0, 1, 7, 4096, 4097, 100003}) {
        const auto x = random_floats(n, 21, -3.0f, 3.0f);
        double want = 0.0;
        for (float f : x) want += static_cast<double>(f) * f;
        const double got = cpu::sum_squares(ctx, x.data(), n);
        REQUIRE(std::abs(got - want) <= 1e-12 * (1.0 + want));
        const int threads = omp_get_max_threads();
        omp_set_num_threads(1);
        const double single = cpu::sum_squares(ctx, x.data(), n);
        omp_set_num_threads(threads);
        REQUIRE(single == got);  // bit for bit
    }
    auto x = random_floats(5000, 22);
    x[4321] = std::numeric_limits<float>::quiet_NaN();
    REQUIRE(std::isnan(cpu::sum_squares(ctx, x.data(), 5000)));
    x[4321] = -std::numeric_limits<float>::infinity();
    REQUIRE(std::isinf(cpu::sum_squares(ctx, x.data(), 5000)));
    x[4321] = std::numeric_limits<float>::max();  // large but finite: a double does not overflow
    REQUIRE(std::isfinite(cpu::sum_squares(ctx, x.data(), 5000)));
}

TEST_CASE("scale in place and zero_fill", "[train][grad]") {
    cpu::context ctx;
    auto x = random_floats(33, 5);
    const auto orig = x;
    cpu::scale(ctx, x.data(), x.data(), -0.5f, 33);
    for (std::size_t i = 0; i < x.size(); ++i) REQUIRE(x[i] == orig[i] * -0.5f);
    cpu::zero_fill(ctx, x.data(), 33);
    REQUIRE(x == std::vector<float>(33, 0.0f));
}

TEST_CASE("inspect_grads unscales, averages and clips in one multiplier", "[train][grad]") {
    cpu::context ctx;
    // two tensors; stored grads = loss_scale * (sum of 4 micro-batch grads)
    const float loss_scale = 1024.0f;
    const std::int64_t accum = 4;
    auto g1 = random_floats(50, 31), g2 = random_floats(7, 32);
    double sumsq = 0.0;
    for (float f : g1) sumsq += double(f) * f;
    for (float f : g2) sumsq += double(f) * f;
    const double true_norm = std::sqrt(sumsq);
    std::vector<float> s1(g1.size()), s2(g2.size()), dummy(50);
    for (std::size_t i = 0; i < g1.size(); ++i) s1[i] = g1[i] * loss_scale * accum;
    for (std::size_t i = 0; i < g2.size(); ++i) s2[i] = g2[i] * loss_scale * accum;
    std::vector<train::adamw_tensor> ts(2);
    ts[0] = {dummy.data(), dummy.data(), dummy.data(), s1.data(), 50};
    ts[1] = {dummy.data(), dummy.data(), dummy.data(), s2.data(), 7};

    auto r = train::inspect_grads(ctx, std::span<const train::adamw_tensor>(ts), loss_scale, 0.0, accum);
    REQUIRE(r.finite);
    REQUIRE(r.norm == Approx(true_norm).epsilon(1e-6));
    REQUIRE(r.clip == 1.0);
    REQUIRE(r.grad_scale == Approx(1.0 / (1024.0 * 4)).epsilon(1e-7));

    const double max_norm = true_norm / 2;
    r = train::inspect_grads(ctx, std::span<const train::adamw_tensor>(ts), loss_scale, max_norm, accum);
    REQUIRE(r.clip == Approx(max_norm / (true_norm + 1e-6)).epsilon(1e-9));
    // the clipped, unscaled gradient has norm max_norm
    double clipped = 0.0;
    for (float f : s1) clipped += std::pow(double(f) * r.grad_scale, 2);
    for (float f : s2) clipped += std::pow(double(f) * r.grad_scale, 2);
    REQUIRE(std::sqrt(clipped) == Approx(max_norm).epsilon(1e-5));

    s2[3] = std::numeric_limits<float>::infinity();
    r = train::inspect_grads(ctx, std::span<const train::adamw_tensor>(ts), loss_scale, max_norm, accum);
    REQUIRE_FALSE(r.finite);
    REQUIRE_THROWS_AS(train::inspect_grads(ctx, std::span<const train::adamw_tensor>(ts), 0.0f), config_error);
    REQUIRE_THROWS_AS(train::inspect_grads(ctx, std::span<const train::adamw_tensor>(ts), 1.0f, 0.0, 0), config_error);
}

TEST_CASE("clip_coefficient follows clip_grad_norm_", "[train][grad]") {
    REQUIRE(train::clip_coefficient(3.0, 0.0) == 1.0);
    REQUIRE(train::clip_coefficient(0.5, 1.0) == 1.0);
    REQUIRE(train::clip_coefficient(4.0, 1.0) == Approx(1.0 / (4.0 + 1e-6)));
    REQUIRE(train::clip_coefficient(INFINITY, 1.0) == 1.0);
}

TEST_CASE("grad_accumulation counts windows of micro-batches", "[train][grad]") {
    train::grad_accumulation acc{3};
    std::vector<int> steps_at;
    for (int mb = 0; mb < 9; ++mb) {
        if (mb % 3 == 0) REQUIRE(acc.window_start());
        else REQUIRE_FALSE(acc.window_start());
        if (acc.micro_step()) steps_at.push_back(mb);
    }
    REQUIRE(steps_at == std::vector<int>{2, 5, 8});
    REQUIRE_THROWS_AS(train::grad_accumulation{0}, config_error);
    train::grad_accumulation one{1};
    REQUIRE(one.micro_step());
}
