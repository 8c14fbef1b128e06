// RoPE forward vs a float64 reference (both layouts, default and explicit positions, tiny and odd
// sizes), norm preservation, agreement of the `half` and `interleaved` layouts under the pair
// permutation, backward as the exact inverse, backward vs central differences, bad arguments.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <vector>

#include "hoprag/cpu/backend.hpp"
#include "support/reference.hpp"

using namespace hoprag;

namespace {

struct rope_shape {
    std::int64_t batch, seq, heads, head_dim;
};

/// Plain float64 RoPE: pair p of token (b, s) rotated by pos * theta^(-2p / head_dim).
std::vector<double> rope_ref(std::vector<double> x, const std::vector<std::int32_t>& pos, rope_shape s, double theta,
                             rope_style style) {
    const std::int64_t half = s.head_dim / 2;
    for (std::int64_t b = 0; b < s.batch; ++b)
        for (std::int64_t t = 0; t < s.seq; ++t)
            for (std::int64_t h = 0; h < s.heads; ++h) {
                double* row = x.data() + ((b * s.seq + t) * s.heads + h) * s.head_dim;
                const double p = pos.empty() ? double(t) : double(pos[b * s.seq + t]);
                for (std::int64_t i = 0; i < half; ++i) {
                    const double a = p * std::pow(theta, -2.0 * double(i) / double(s.head_dim));
                    const std::int64_t i0 = style == rope_style::half ? i : 2 * i;
                    const std::int64_t i1 = style == rope_style::half ? i + half : 2 * i + 1;
                    const double x0 = row[i0], x1 = row[i1];
                    row[i0] = x0 * std::cos(a) - x1 * std::sin(a);
                    row[i1] = x0 * std::sin(a) + x1 * std::cos(a);
                }
            }
    return x;
}

std::vector<std::int32_t> random_positions(std::int64_t n, std::uint64_t seed, int max_pos) {
    const auto u = test::random_floats(static_cast<std::size_t>(n), seed, 0.0f, 1.0f);
    std::vector<std::int32_t> p(n);
    for (std::int64_t i = 0; i < n; ++i) p[i] = static_cast<std::int32_t>(u[i] * max_pos);
    return p;
}

const rope_shape shapes[] = {{1, 1, 1, 2}, {2, 3, 5, 2}, {1, 7, 3, 6}, {3, 5, 2, 64}, {1, 4, 9, 128}};

}  // namespace

TEST_CASE("rope forward matches a float64 reference", "[rope]") {
    cpu::context ctx;
    for (auto s : shapes)
        for (auto style : {rope_style::half, rope_style::interleaved})
            for (bool explicit_pos : {false, true}) {
                const std::size_t n = s.batch * s.seq * s.heads * s.head_dim;
                const auto x = test::random_floats(n, 31 + n, -2.0f, 2.0f);
                const auto pos = explicit_pos ? random_positions(s.batch * s.seq, 5 + n, 512) : std::vector<std::int32_t>{};
                for (float theta : {10000.0f, 500000.0f}) {
                    std::vector<float> y = x;
                    cpu::rope_forward(ctx, y.data(), explicit_pos ? pos.data() : nullptr, s.batch, s.seq, s.heads,
                                      s.head_dim, theta, style);
                    // f32 angles: pos * freq carries a relative error of a few ulp, i.e. up to ~1e-4 rad at pos 512.
                    test::require_close(y, rope_ref(test::to_double(x), pos, s, theta, style), 1e-4, 3e-4,
                                        "rope d=" + std::to_string(s.head_dim));
                }
            }
}

TEST_CASE("rope preserves the norm of every head", "[rope]") {
    cpu::context ctx;
    const rope_shape s{2, 6, 3, 32};
    const std::size_t n = s.batch * s.seq * s.heads * s.head_dim;
    const auto x = test::random_floats(n, 77, -3.0f, 3.0f);
    const auto pos = random_positions(s.batch * s.seq, 78, 4096);
    std::vector<float> y = x;
    cpu::rope_forward(ctx, y.data(), pos.data(), s.batch, s.seq, s.heads, s.head_dim, 10000.0f, rope_style::half);
    bool moved = false;
    for (std::size_t r = 0; r < n / s.head_dim; ++r) {
        double nx = 0, ny = 0;
        for (std::int64_t c = 0; c < s.head_dim; ++c) {
            nx += double(x[r * s.head_dim + c]) * x[r * s.head_dim + c];
            ny += double(y[r * s.head_dim + c]) * y[r * s.head_dim + c];
            moved |= x[r * s.head_dim + c] != y[r * s.head_dim + c];
        }
        REQUIRE(std::abs(std::sqrt(ny) - std::sqrt(nx)) <= 1e-5 * std::sqrt(nx));
    }
    REQUIRE(moved);
}

TEST_CASE("rope half and interleaved layouts agree under the pair permutation", "[rope]") {
    cpu::context ctx;
    const rope_shape s{2, 5, 3, 16};
    const std::int64_t half = s.head_dim / 2, rows = s.batch * s.seq * s.heads;
    const auto x = test::random_floats(rows * s.head_dim, 55);
    const auto pos = random_positions(s.batch * s.seq, 56, 1000);
    // interleaved element 2p <-> half element p, 2p + 1 <-> p + half.
    auto to_half = [&](const std::vector<float>& inter) {
        std::vector<float> h(inter.size());
        for (std::int64_t r = 0; r < rows; ++r)
            for (std::int64_t p = 0; p < half; ++p) {
                h[r * s.head_dim + p] = inter[r * s.head_dim + 2 * p];
                h[r * s.head_dim + p + half] = inter[r * s.head_dim + 2 * p + 1];
            }
        return h;
    };
    std::vector<float> inter = x, hf = to_half(x);
    cpu::rope_forward(ctx, inter.data(), pos.data(), s.batch, s.seq, s.heads, s.head_dim, 10000.0f, rope_style::interleaved);
    cpu::rope_forward(ctx, hf.data(), pos.data(), s.batch, s.seq, s.heads, s.head_dim, 10000.0f, rope_style::half);
    REQUIRE(to_half(inter) == hf);  // same f32 operations on the same pairs: bit-identical
    REQUIRE(hf != to_half(x));
}

TEST_CASE("rope backward inverts forward and matches central differences", "[rope]") {
    cpu::context ctx;
    for (auto s : shapes)
        for (auto style : {rope_style::half, rope_style::interleaved}) {
            const std::size_t n = s.batch * s.seq * s.heads * s.head_dim;
            const auto x = test::random_floats(n, 91 + n);
            const auto pos = random_positions(s.batch * s.seq, 92 + n, 300);
            std::vector<float> y = x;
            cpu::rope_forward(ctx, y.data(), pos.data(), s.batch, s.seq, s.heads, s.head_dim, 10000.0f, style);
            cpu::rope_backward(ctx, y.data(), pos.data(), s.batch, s.seq, s.heads, s.head_dim, 10000.0f, style);
            test::require_close(y, x, 1e-6, 1e-6, "rope inverse");

            if (n > 2000) continue;  // finite differences on the small shapes only
            const auto dout = test::random_floats(n, 93 + n);
            std::vector<float> dx = dout;
            cpu::rope_backward(ctx, dx.data(), pos.data(), s.batch, s.seq, s.heads, s.head_dim, 10000.0f, style);
            const auto g = test::numeric_gradient(test::to_double(x), [&](const std::vector<double>& xd) {
                const auto o = rope_ref(xd, pos, s, 10000.0, style);
                double l = 0;
                for (std::size_t i = 0; i < n; ++i) l += dout[i] * o[i];
                return l;
            });
            test::require_close(dx, g, 1e-4, 3e-4, "rope dx");
        }
}

TEST_CASE("rope rejects odd head_dim and bad theta", "[rope]") {
    cpu::context ctx;
    std::vector<float> x(12);
    REQUIRE_THROWS_AS(cpu::rope_forward(ctx, x.data(), nullptr, 1, 1, 4, 3, 10000.0f, rope_style::half), shape_error);
    REQUIRE_THROWS_AS(cpu::rope_backward(ctx, x.data(), nullptr, 1, 2, 2, 0, 10000.0f, rope_style::half), shape_error);
    REQUIRE_THROWS_AS(cpu::rope_forward(ctx, x.data(), nullptr, 1, 1, 6, 2, 0.0f, rope_style::half), config_error);
}
