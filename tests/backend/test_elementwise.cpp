// CPU elementwise ops vs plain float64 references: add, scale, cast, sum_rows (accumulating) and
// the activations GELU (erf, tanh), SiLU, SwiGLU; every backward against central differences of
// the float64 forward with loss = sum(dout * out).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <vector>

#include "hoprag/cpu/backend.hpp"
#include "support/reference.hpp"

using namespace hoprag;
using hoprag::test::numeric_gradient;
using hoprag::test::random_floats;
using hoprag::test::require_close;

namespace {

double gelu_ref(double x, gelu_kind kind) {
    if (kind == gelu_kind::erf) return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
    const double pi = 3.14159265358979323846;
    return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / pi) * (x + 0.044715 * x * x * x)));
}
double silu_ref(double x) {
    return x / (1.0 + std::exp(-x));
}

}  // namespace

TEST_CASE("add and scale match float64 on odd and tiny sizes", "[elementwise]") {
    cpu::context ctx;
    for (std::int64_t n : {0, 1, 3, 17, 1000}) {
        const auto x = random_floats(n, 1, -3, 3), y = random_floats(n, 2, -3, 3);
        std::vector<float> out(n);
        std::vector<double> want(n);
        cpu::add(ctx, out.data(), x.data(), y.data(), n);
        for (std::int64_t i = 0; i < n; ++i) want[i] = double(x[i]) + double(y[i]);
        require_close(out, want, 1e-7, 1e-7, "add");
        cpu::scale(ctx, out.data(), x.data(), -0.37f, n);
        for (std::int64_t i = 0; i < n; ++i) want[i] = double(x[i]) * double(-0.37f);
        require_close(out, want, 1e-7, 1e-7, "scale");
    }
    std::vector<float> v{1, 2, 3};
    cpu::add(ctx, v.data(), v.data(), v.data(), 3);  // in place
    CHECK(v == std::vector<float>{2, 4, 6});
    CHECK_THROWS_AS(cpu::add(ctx, v.data(), v.data(), v.data(), -1), shape_error);
}

TEST_CASE("cast converts between f32, bf16 and f16 with nearest-even rounding", "[elementwise]") {
    cpu::context ctx;
    const std::int64_t n = 1001;
    auto x = random_floats(n, 3, -70000, 70000);
    x[0] = 1.0f;
    x[1] = -2.5f;
    x[2] = 1.0f + 1.0f / 256;  // halfway between two bf16 values: rounds to even (1.0)
    std::vector<bf16> b(n);
    std::vector<f16> h(n);
    std::vector<float> back(n);
    cpu::cast(ctx, b.data(), dtype::bf16, x.data(), dtype::f32, n);
    cpu::cast(ctx, h.data(), dtype::f16, x.data(), dtype::f32, n);
    CHECK(b[0].bits == 0x3f80);
    CHECK(b[1].bits == 0xc020);
    CHECK(b[2].bits == 0x3f80);
    CHECK(h[0].bits == 0x3c00);
    CHECK(h[1].bits == 0xc100);
    for (std::int64_t i = 0; i < n; ++i) {
        REQUIRE(b[i].bits == bf16::from_float(x[i]).bits);
        REQUIRE(h[i].bits == f16::from_float(x[i]).bits);
    }
    // bf16 -> f32 is exact; bf16 -> f16 -> f32 equals f16 rounding of the bf16 value
    cpu::cast(ctx, back.data(), dtype::f32, b.data(), dtype::bf16, n);
    for (std::int64_t i = 0; i < n; ++i) REQUIRE(back[i] == b[i].to_float());
    std::vector<f16> bh(n);
    cpu::cast(ctx, bh.data(), dtype::f16, b.data(), dtype::bf16, n);
    for (std::int64_t i = 0; i < n; ++i) REQUIRE(bh[i].bits == f16::from_float(b[i].to_float()).bits);
    std::vector<bf16> hb(n);
    cpu::cast(ctx, hb.data(), dtype::bf16, h.data(), dtype::f16, n);
    for (std::int64_t i = 0; i < n; ++i) REQUIRE(hb[i].bits == bf16::from_float(h[i].to_float()).bits);
    std::vector<float> same(n);
    cpu::cast(ctx, same.data(), dtype::f32, x.data(), dtype::f32, n);
    CHECK(same == x);
    CHECK_THROWS_AS(cpu::cast(ctx, same.data(), dtype::i32, x.data(), dtype::f32, n), config_error);
    CHECK_THROWS_AS(cpu::cast(ctx, same.data(), dtype::f32, x.data(), dtype::u8, n), config_error);
}

TEST_CASE("sum_rows accumulates column sums", "[elementwise]") {
    cpu::context ctx;
    for (auto [rows, cols] :
         std::vector<std::pair<std::int64_t, std::int64_t>>{{1, 1}, {1, 3}, {5, 17}, {33, 130}, {7, 1000}}) {
        const auto x = random_floats(rows * cols, 4);
        auto out = random_floats(cols, 5);
        std::vector<double> want(cols);
        for (std::int64_t c = 0; c < cols; ++c) {
            want[c] = out[c];
            for (std::int64_t r = 0; r < rows; ++r) want[c] += x[r * cols + c];
        }
        cpu::sum_rows(ctx, out.data(), x.data(), rows, cols);
        require_close(out, want, 1e-5, 1e-5, "sum_rows");
    }
}

TEST_CASE("GELU forward and backward (erf and tanh)", "[elementwise]") {
    cpu::context ctx;
    for (gelu_kind kind : {gelu_kind::erf, gelu_kind::tanh}) {
        for (std::int64_t n : {1, 3, 17, 300}) {
            INFO("kind " << (kind == gelu_kind::erf ? "erf" : "tanh") << " n " << n);
            const auto x = random_floats(n, 6, -6, 6), dout = random_floats(n, 7);
            std::vector<float> out(n), dx(n);
            std::vector<double> want(n);
            cpu::gelu_forward(ctx, out.data(), x.data(), n, kind);
            for (std::int64_t i = 0; i < n; ++i) want[i] = gelu_ref(x[i], kind);
            require_close(out, want, 1e-5, 1e-6, "gelu forward");
            cpu::gelu_backward(ctx, dx.data(), dout.data(), x.data(), n, kind);
            const auto g = numeric_gradient(hoprag::test::to_double(x), [&](const std::vector<double>& xd) {
                double l = 0;
                for (std::int64_t i = 0; i < n; ++i) l += dout[i] * gelu_ref(xd[i], kind);
                return l;
            });
            require_close(dx, g, 1e-4, 1e-5, "gelu backward");
        }
    }
}

TEST_CASE("SiLU and SwiGLU forward and backward", "[elementwise]") {
    cpu::context ctx;
    for (std::int64_t n : {1, 3, 17, 300}) {
        auto x = random_floats(n, 8, -8, 8);
        const auto up = random_floats(n, 9, -2, 2), dout = random_floats(n, 10);
        if (n > 2) x[1] = -100.0f;  // saturated sigmoid must not give NaN
        std::vector<float> out(n), dx(n), dup(n);
        std::vector<double> want(n), want_up(n);
        cpu::silu_forward(ctx, out.data(), x.data(), n);
        for (std::int64_t i = 0; i < n; ++i) want[i] = silu_ref(x[i]);
        require_close(out, want, 1e-5, 1e-7, "silu forward");
        cpu::silu_backward(ctx, dx.data(), dout.data(), x.data(), n);
        auto g = numeric_gradient(hoprag::test::to_double(x), [&](const std::vector<double>& xd) {
            double l = 0;
            for (std::int64_t i = 0; i < n; ++i) l += dout[i] * silu_ref(xd[i]);
            return l;
        });
        require_close(dx, g, 1e-4, 1e-6, "silu backward");

        cpu::swiglu_forward(ctx, out.data(), x.data(), up.data(), n);
        for (std::int64_t i = 0; i < n; ++i) want[i] = silu_ref(x[i]) * up[i];
        require_close(out, want, 1e-5, 1e-7, "swiglu forward");
        cpu::swiglu_backward(ctx, dx.data(), dup.data(), dout.data(), x.data(), up.data(), n);
        g = numeric_gradient(hoprag::test::to_double(x), [&](const std::vector<double>& xd) {
            double l = 0;
            for (std::int64_t i = 0; i < n; ++i) l += dout[i] * silu_ref(xd[i]) * up[i];
            return l;
        });
        const auto gu = numeric_gradient(hoprag::test::to_double(up), [&](const std::vector<double>& ud) {
            double l = 0;
            for (std::int64_t i = 0; i < n; ++i) l += dout[i] * silu_ref(x[i]) * ud[i];
            return l;
        });
        require_close(dx, g, 1e-4, 1e-6, "swiglu dgate");
        require_close(dup, gu, 1e-4, 1e-6, "swiglu dup");
    }
}

TEST_CASE("bias_gelu_forward adds the bias in place and applies GELU", "[elementwise]") {
    cpu::context ctx;
    for (gelu_kind kind : {gelu_kind::erf, gelu_kind::tanh}) {
        for (auto [rows, cols] : {std::pair<std::int64_t, std::int64_t>{1, 1}, {3, 17}, {19, 1536}}) {
            INFO("kind " << (kind == gelu_kind::erf ? "erf" : "tanh") << " rows " << rows << " cols " << cols);
            const auto x0 = random_floats(std::size_t(rows * cols), 8, -5, 5), bias = random_floats(std::size_t(cols), 9);
            std::vector<float> x = x0, out(x0.size());
            std::vector<double> want_x(x0.size()), want(x0.size());
            for (std::int64_t r = 0; r < rows; ++r)
                for (std::int64_t c = 0; c < cols; ++c) {
                    const double v = double(x0[r * cols + c]) + bias[c];
                    want_x[r * cols + c] = v;
                    want[r * cols + c] = gelu_ref(v, kind);
                }
            cpu::bias_gelu_forward(ctx, out.data(), x.data(), bias.data(), rows, cols, kind);
            require_close(x, want_x, 1e-6, 1e-7, "x + bias");
            require_close(out, want, 1e-5, 1e-6, "gelu(x + bias)");
            x = x0;
            cpu::bias_gelu_forward(ctx, out.data(), x.data(), nullptr, rows, cols, kind);
            for (std::int64_t i = 0; i < rows * cols; ++i) want[i] = gelu_ref(x0[i], kind);
            require_close(out, want, 1e-5, 1e-6, "gelu without bias");
        }
    }
    std::vector<float> v(4);
    CHECK_THROWS_AS(cpu::bias_gelu_forward(ctx, v.data(), nullptr, nullptr, 2, 2, gelu_kind::erf), shape_error);
}
