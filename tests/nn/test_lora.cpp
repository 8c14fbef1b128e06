// LoRA linear layer on the CPU backend vs float64 references: forward (dense and NF4 base, with and
// without dropout), backward into A, B and x by central differences of a float64 loss, merge ==
// unmerged forward, unmerge restores the base, and a fresh adapter (B = 0) leaves the base unchanged.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "hoprag/cpu/backend.hpp"
#include "hoprag/kernels/dropout.hpp"
#include "hoprag/nn/lora.hpp"
#include "hoprag/quant/nf4.hpp"
#include "support/reference.hpp"

using namespace hoprag;
using test::random_floats;

namespace {

struct problem {
    std::int64_t m, in, out, r;
    float alpha, p;
};

/// Float64 y = x W^T + s * B A (x * mask) for the flattened parameters.
std::vector<double> reference_forward(const problem& q, const std::vector<double>& x, const std::vector<double>& w, const std::vector<double>& a,
                                      const std::vector<double>& b, const philox_stream& s) {
    const double sc = double(q.alpha) / double(q.r);
    std::vector<double> y(q.m * q.out, 0.0), xd(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) xd[i] = x[i] * (q.p > 0 ? double(kernels::dropout_factor(s, i, q.p)) : 1.0);
    for (std::int64_t i = 0; i < q.m; ++i) {
        std::vector<double> u(q.r, 0.0);
        for (std::int64_t k = 0; k < q.r; ++k)
            for (std::int64_t c = 0; c < q.in; ++c) u[k] += a[k * q.in + c] * xd[i * q.in + c];
        for (std::int64_t o = 0; o < q.out; ++o) {
            double acc = 0.0;
            for (std::int64_t c = 0; c < q.in; ++c) acc += x[i * q.in + c] * w[o * q.in + c];
            for (std::int64_t k = 0; k < q.r; ++k) acc += sc * b[o * q.r + k] * u[k];
            y[i * q.out + o] = acc;
        }
    }
    return y;
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
    double s = 0;
    for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
    return s;
}

/// Runs forward and backward of an adapted linear and checks them against float64.
void check_layer(const problem& q, bool quantize) {
    cpu::context ctx;
    const auto x = random_floats(q.m * q.in, 11);
    auto w = random_floats(q.out * q.in, 12, -0.5f, 0.5f);
    const auto a = random_floats(q.r * q.in, 13);
    const auto b = random_floats(q.out * q.r, 14);  // non-zero B so every path is exercised
    const auto g = random_floats(q.m * q.out, 15);  // dloss/dy
    auto base = quantize ? nn::make_nf4(ctx, w, q.out, q.in) : nn::make_dense(ctx, w, q.out, q.in);
    if (quantize) w = quant::nf4_dequantize(quant::nf4_quantize(w, q.out, q.in));  // the reference uses what the layer holds
    nn::lora_linear<cpu::context> l;
    l.in = q.in, l.out = q.out, l.rank = q.r, l.scale = q.alpha / float(q.r);
    l.a = buffer<cpu::context, float>(ctx, a);
    l.b = buffer<cpu::context, float>(ctx, b);
    const nn::lora_dropout drop{q.p, philox_stream{77, 3}};

    buffer<cpu::context, float> dx(ctx, x), y(ctx, std::size_t(q.m * q.out)), dy(ctx, g), xb(ctx, x);
    nn::lora_saved<cpu::context> saved;
    nn::adapted_forward(ctx, base, &l, y.data(), xb.data(), q.m, 0.0f, drop, &saved);
    auto grads = nn::make_lora_grads(ctx, l);
    nn::adapted_backward(ctx, base, &l, &grads, dx.data(), dy.data(), xb.data(), q.m, drop, &saved);

    const auto X = test::to_double(x), W = test::to_double(w), A = test::to_double(a), B = test::to_double(b), G = test::to_double(g);
    test::require_close(y.to_host(), reference_forward(q, X, W, A, B, drop.stream), 1e-4, 1e-5, "forward");
    const auto loss_x = [&](const std::vector<double>& v) { return dot(reference_forward(q, v, W, A, B, drop.stream), G); };
    const auto loss_a = [&](const std::vector<double>& v) { return dot(reference_forward(q, X, W, v, B, drop.stream), G); };
    const auto loss_b = [&](const std::vector<double>& v) { return dot(reference_forward(q, X, W, A, v, drop.stream), G); };
    test::require_close(dx.to_host(), test::numeric_gradient(X, loss_x), 1e-4, 1e-5, "dx");
    test::require_close(grads.da.to_host(), test::numeric_gradient(A, loss_a), 1e-4, 1e-5, "dA");
    test::require_close(grads.db.to_host(), test::numeric_gradient(B, loss_b), 1e-4, 1e-5, "dB");
}

}  // namespace

TEST_CASE("lora linear forward and backward match float64 and finite differences (dense base)", "[lora]") {
    check_layer({3, 5, 7, 2, 4.0f, 0.0f}, false);
    check_layer({1, 1, 1, 1, 1.0f, 0.0f}, false);
    check_layer({4, 9, 6, 3, 32.0f, 0.3f}, false);  // with dropout: mask from Philox, same in backward
}

TEST_CASE("lora linear on an NF4 base: forward and dx go through the dequantise-GEMM", "[lora][nf4]") {
    check_layer({3, 64, 5, 2, 4.0f, 0.0f}, true);
    check_layer({2, 32, 6, 4, 8.0f, 0.2f}, true);  // 192 elements: blocks straddle rows
}

TEST_CASE("dropout keeps about 1 - p of the elements, scaled by 1 / (1 - p), and is reproducible", "[lora]") {
    cpu::context ctx;
    const std::int64_t n = 20000;
    std::vector<float> ones(n, 1.0f), out(n), again(n);
    cpu::dropout(ctx, out.data(), ones.data(), n, 0.25f, philox_stream{5, 1});
    cpu::dropout(ctx, again.data(), ones.data(), n, 0.25f, philox_stream{5, 1});
    std::int64_t kept = 0;
    for (std::int64_t i = 0; i < n; ++i) {
        REQUIRE((out[i] == 0.0f || std::abs(out[i] - 1.0f / 0.75f) < 1e-6f));
        kept += out[i] != 0.0f;
    }
    CHECK(out == again);
    CHECK(std::abs(double(kept) / n - 0.75) < 0.02);
    REQUIRE_THROWS_AS(cpu::dropout(ctx, out.data(), ones.data(), n, 1.0f, philox_stream{}), config_error);
}

TEST_CASE("fresh lora leaves the base unchanged, and merge equals the unmerged forward, and unmerge restores it", "[lora]") {
    cpu::context ctx;
    const std::int64_t m = 3, in = 10, out = 6, r = 4;
    const auto x = random_floats(m * in, 21);
    const auto w = random_floats(out * in, 22);
    auto base = nn::make_dense(ctx, w, out, in);
    auto l = nn::make_lora(ctx, in, out, r, 8.0f, 99, 0);
    // A is Kaiming-uniform within 1/sqrt(in), B is zero
    const auto a = l.a.to_host();
    float amax = 0;
    for (float v : a) amax = std::max(amax, std::abs(v));
    CHECK(amax <= 1.0f / std::sqrt(float(in)));
    CHECK(amax > 0.5f / std::sqrt(float(in)));
    for (float v : l.b.to_host()) REQUIRE(v == 0.0f);
    buffer<cpu::context, float> xb(ctx, x), y0(ctx, std::size_t(m * out)), y1(ctx, std::size_t(m * out));
    nn::frozen_forward(ctx, base, y0.data(), xb.data(), m);
    nn::adapted_forward(ctx, base, &l, y1.data(), xb.data(), m);
    CHECK(y0.to_host() == y1.to_host());

    l.b.assign(random_floats(out * r, 23));
    nn::adapted_forward(ctx, base, &l, y1.data(), xb.data(), m);
    const auto unmerged = y1.to_host();
    CHECK(unmerged != y0.to_host());
    nn::lora_merge(ctx, base, l);
    nn::frozen_forward(ctx, base, y0.data(), xb.data(), m);
    test::require_close(y0.to_host(), unmerged, 1e-5, 1e-6, "merged vs unmerged");
    nn::lora_unmerge(ctx, base, l);
    test::require_close(base.dense.to_host(), w, 1e-5, 1e-6, "unmerged weight");

    auto q = nn::make_nf4(ctx, random_floats(64, 24), 8, 8);
    auto lq = nn::make_lora(ctx, 8, 8, 2, 4.0f, 1, 0);
    REQUIRE_THROWS_AS(nn::lora_merge(ctx, q, lq), config_error);
}
