// Softmax forward vs a float64 reference on random rows (tiny, odd and wide sizes, per-row limits
// including 0, negative and past the end), backward vs central differences of the float64 forward.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <vector>

#include "hoprag/cpu/backend.hpp"
#include "support/reference.hpp"

using namespace hoprag;

namespace {

/// Plain float64 masked softmax of every row.
std::vector<double> softmax_ref(const std::vector<double>& x, std::int64_t rows, std::int64_t cols,
                                const std::vector<std::int32_t>& limit) {
    std::vector<double> out(x.size(), 0.0);
    for (std::int64_t r = 0; r < rows; ++r) {
        std::int64_t n = limit.empty() ? cols : limit[r];
        n = n < 0 ? 0 : (n > cols ? cols : n);
        double m = -INFINITY, s = 0.0;
        for (std::int64_t j = 0; j < n; ++j) m = std::max(m, x[r * cols + j]);
        for (std::int64_t j = 0; j < n; ++j) s += std::exp(x[r * cols + j] - m);
        for (std::int64_t j = 0; j < n; ++j) out[r * cols + j] = std::exp(x[r * cols + j] - m) / s;
    }
    return out;
}

std::vector<std::int32_t> random_limits(std::int64_t rows, std::int64_t cols, std::uint64_t seed) {
    const auto u = test::random_floats(static_cast<std::size_t>(rows), seed, 0.0f, 1.0f);
    std::vector<std::int32_t> l(rows);
    for (std::int64_t r = 0; r < rows; ++r) l[r] = static_cast<std::int32_t>(std::floor(u[r] * (cols + 1)));
    l[0] = 0;                                             // an empty row
    if (rows > 1) l[1] = static_cast<std::int32_t>(cols + 5);  // past the end: clamped to cols
    if (rows > 2) l[2] = -3;                              // negative: clamped to 0
    return l;
}

}  // namespace

TEST_CASE("softmax forward matches a float64 reference", "[softmax]") {
    cpu::context ctx;
    const std::int64_t shapes[][2] = {{1, 1}, {3, 7}, {5, 1}, {17, 33}, {4, 1000}, {2, 4097}};
    for (auto [rows, cols] : shapes) {
        for (bool masked : {false, true}) {
            const auto x = test::random_floats(rows * cols, 11 + rows * cols, -8.0f, 8.0f);
            const auto limit = masked ? random_limits(rows, cols, 5 + rows) : std::vector<std::int32_t>{};
            std::vector<float> out(x.size(), -1.0f);
            cpu::softmax_forward(ctx, out.data(), x.data(), rows, cols, masked ? limit.data() : nullptr);
            test::require_close(out, softmax_ref(test::to_double(x), rows, cols, limit), 1e-5, 1e-7,
                                "softmax " + std::to_string(rows) + "x" + std::to_string(cols));
            if (masked) {
                for (std::int64_t j = 0; j < cols; ++j) REQUIRE(out[j] == 0.0f);  // limit 0 row
            }
            // In place gives the same result.
            std::vector<float> inplace = x;
            cpu::softmax_forward(ctx, inplace.data(), inplace.data(), rows, cols, masked ? limit.data() : nullptr);
            REQUIRE(inplace == out);
        }
    }
}

TEST_CASE("softmax is stable for large inputs", "[softmax]") {
    cpu::context ctx;
    const std::vector<float> x{1000.0f, 1001.0f, -1000.0f, 999.0f};
    std::vector<float> out(4);
    cpu::softmax_forward(ctx, out.data(), x.data(), 1, 4);
    test::require_close(out, softmax_ref(test::to_double(x), 1, 4, {}), 1e-6, 1e-12, "large logits");
}

TEST_CASE("softmax backward matches central differences", "[softmax]") {
    cpu::context ctx;
    const std::int64_t shapes[][2] = {{1, 1}, {3, 7}, {6, 13}, {2, 64}};
    for (auto [rows, cols] : shapes) {
        const auto x = test::random_floats(rows * cols, 3 + cols, -3.0f, 3.0f);
        const auto dout = test::random_floats(rows * cols, 4 + cols, -1.0f, 1.0f);
        const auto limit = random_limits(rows, cols, 9 + cols);
        std::vector<float> out(x.size()), dx(x.size(), 7.0f);
        cpu::softmax_forward(ctx, out.data(), x.data(), rows, cols, limit.data());
        cpu::softmax_backward(ctx, dx.data(), dout.data(), out.data(), rows, cols);
        const auto g = test::numeric_gradient(test::to_double(x), [&](const std::vector<double>& xd) {
            const auto o = softmax_ref(xd, rows, cols, limit);
            double l = 0.0;
            for (std::size_t i = 0; i < o.size(); ++i) l += dout[i] * o[i];
            return l;
        });
        test::require_close(dx, g, 1e-4, 1e-6, "softmax dx " + std::to_string(rows) + "x" + std::to_string(cols));
    }
}

TEST_CASE("softmax rejects negative sizes", "[softmax]") {
    cpu::context ctx;
    float x = 0.0f;
    REQUIRE_THROWS_AS(cpu::softmax_forward(ctx, &x, &x, -1, 1), shape_error);
    REQUIRE_THROWS_AS(cpu::softmax_backward(ctx, &x, &x, &x, 1, -2), shape_error);
}

TEST_CASE("exp_f32 is within a few ulp of exp", "[softmax][math]") {
    double worst = 0.0;
    float at = 0.0f;
    for (int i = 0; i <= 200000; ++i) {
        const float x = -87.0f + 175.0f * float(i) / 200000.0f;
        const double want = std::exp(double(x));
        const double rel = std::abs(double(kernels::exp_f32(x)) - want) / want;
        if (rel > worst) worst = rel, at = x;
    }
    INFO("worst relative error " << worst << " at x = " << at);
    REQUIRE(worst < 3.0 * 5.96e-8);  // 3 ulp of f32
    REQUIRE(kernels::exp_f32(0.0f) == 1.0f);
    REQUIRE(kernels::exp_f32(-100.0f) == 0.0f);
    REQUIRE(kernels::exp_f32(-INFINITY) == 0.0f);
    REQUIRE(std::isfinite(kernels::exp_f32(1000.0f)));
}
