// CPU GEMM vs a float64 reference: all transpose combinations, tiny and odd sizes, padded leading
// dimensions, strided batches, alpha/beta/bias, bf16/f16 inputs and outputs, k = 0, repeated calls
// through the primitive cache, and descriptors that must be refused.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "hoprag/cpu/backend.hpp"
#include "support/gemm_cases.hpp"

using namespace hoprag;

TEST_CASE("cpu gemm matches a float64 reference", "[gemm]") {
    cpu::context ctx;
    std::uint64_t seed = 100;
    for (const auto& gc : test::gemm_cases()) {
        auto g = test::make_gemm_data(gc, ++seed);
        cpu::gemm(ctx, g.d, g.a.data(), g.b.data(), g.c.data());
        test::require_close(test::load_as_float(g.d.c_type, g.c), g.want, test::gemm_rtol(g.d.c_type),
                            test::gemm_atol(g.d.c_type, g.d.k), gc.name());
    }
}

TEST_CASE("cpu gemm gives the same result through the primitive cache", "[gemm]") {
    cpu::context ctx;
    for (int rep = 0; rep < 3; ++rep) {
        test::gemm_case gc;
        gc.d.m = 19, gc.d.n = 23, gc.d.k = 11, gc.d.beta = 1.0f, gc.d.trans_b = true, gc.bias = true;
        auto g = test::make_gemm_data(gc, 7 + rep);  // new data, same descriptor: the cached primitive runs
        cpu::gemm(ctx, g.d, g.a.data(), g.b.data(), g.c.data());
        test::require_close(test::load_as_float(g.d.c_type, g.c), g.want, 1e-5, 1e-4, gc.name());
    }
}

TEST_CASE("cpu gemm with packed defaults and beta = 0 ignores NaN in C", "[gemm]") {
    cpu::context ctx;
    const std::int64_t m = 9, n = 4, k = 6;
    const auto a = test::random_floats(m * k, 1), b = test::random_floats(k * n, 2);
    std::vector<float> c(m * n, std::numeric_limits<float>::quiet_NaN());
    gemm_desc d;
    d.m = m, d.n = n, d.k = k;
    cpu::gemm(ctx, d, a.data(), b.data(), c.data());
    std::vector<double> want(m * n, 0.0);
    for (int i = 0; i < m; ++i)
        for (int j = 0; j < n; ++j)
            for (int p = 0; p < k; ++p) want[i * n + j] += double(a[i * k + p]) * b[p * n + j];
    test::require_close(c, want, 1e-5, 1e-5);
}

TEST_CASE("cpu gemm refuses bad descriptors", "[gemm]") {
    cpu::context ctx;
    std::vector<float> a(64, 1.0f), b(64, 1.0f), c(64, 0.0f);
    const auto base = [] {
        gemm_desc d;
        d.m = 4, d.n = 4, d.k = 4;
        return d;
    };
    auto d = base();
    d.m = -1;
    CHECK_THROWS_AS(cpu::gemm(ctx, d, a.data(), b.data(), c.data()), shape_error);
    d = base();
    d.lda = 3;  // A is 4 x 4 row-major: rows need 4
    CHECK_THROWS_AS(cpu::gemm(ctx, d, a.data(), b.data(), c.data()), shape_error);
    d = base();
    d.trans_b = true, d.n = 8, d.ldb = 3;  // B stored n x k: rows need k = 4
    CHECK_THROWS_AS(cpu::gemm(ctx, d, a.data(), b.data(), c.data()), shape_error);
    d = base();
    d.ldc = 2;
    CHECK_THROWS_AS(cpu::gemm(ctx, d, a.data(), b.data(), c.data()), shape_error);
    d = base();
    d.batch = 2, d.stride_c = 8;  // second C would overlap the first
    CHECK_THROWS_AS(cpu::gemm(ctx, d, a.data(), b.data(), c.data()), shape_error);
    d = base();
    d.ab_type = dtype::i32;
    CHECK_THROWS_AS(cpu::gemm(ctx, d, a.data(), b.data(), c.data()), config_error);
    d = base();
    d.c_type = dtype::u8;
    CHECK_THROWS_AS(cpu::gemm(ctx, d, a.data(), b.data(), c.data()), config_error);
    d = base();
    CHECK_THROWS_AS(cpu::gemm(ctx, d, nullptr, b.data(), c.data()), config_error);
    d = base();
    d.m = 0;  // empty product: nothing to do, C untouched
    c.assign(64, 3.0f);
    cpu::gemm(ctx, d, a.data(), b.data(), c.data());
    CHECK(c[0] == 3.0f);
}

TEST_CASE("cpu gemm: large f32 products (dnnl_sgemm path) checked on sampled elements", "[gemm]") {
    cpu::context ctx;
    // per item m * n * k >= 2^30: the large-product path; float64 reference on 1500 sampled elements
    for (int variant = 0; variant < 2; ++variant) {
        gemm_desc d;
        d.m = 1100, d.n = 1000, d.k = 1000, d.batch = 2;
        d.trans_a = variant == 1, d.trans_b = variant == 0;
        d.lda = (d.trans_a ? d.m : d.k) + 3, d.ldb = (d.trans_b ? d.k : d.n) + 1, d.ldc = d.n + 2;
        d.stride_a = d.lda * (d.trans_a ? d.k : d.m) + 5, d.stride_b = d.ldb * (d.trans_b ? d.n : d.k), d.stride_c = d.ldc * d.m + 7;
        d.alpha = variant == 0 ? 0.5f : 1.0f, d.beta = variant == 0 ? 0.25f : 0.0f;
        const auto a = test::random_floats(std::size_t(d.stride_a * d.batch), 11 + variant, -1, 1, 1);
        const auto b = test::random_floats(std::size_t(d.stride_b * d.batch), 11 + variant, -1, 1, 2);
        const auto bias = test::random_floats(std::size_t(d.n), 11 + variant, -1, 1, 3);
        auto c0 = test::random_floats(std::size_t(d.stride_c * d.batch), 11 + variant, -1, 1, 4);
        if (d.beta == 0.0f)
            for (std::int64_t i = 0; i < d.batch; ++i) c0[std::size_t(i * d.stride_c)] = std::numeric_limits<float>::quiet_NaN();
        d.bias = variant == 0 ? bias.data() : nullptr;
        auto c = c0;
        cpu::gemm(ctx, d, a.data(), b.data(), c.data());
        const philox_stream pick{99, std::uint64_t(variant)};
        std::vector<float> got;
        std::vector<double> want;
        for (std::uint64_t s = 0; s < 1500; ++s) {
            const auto bt = std::int64_t(pick.uniform(3 * s) * float(d.batch)) % d.batch;
            const auto i = std::int64_t(pick.uniform(3 * s + 1) * float(d.m)) % d.m;
            auto j = std::int64_t(pick.uniform(3 * s + 2) * float(d.n + 2)) % (d.n + 2);  // j >= n: padding
            const std::size_t at = std::size_t(bt * d.stride_c + i * d.ldc + j);
            double w = c0[at];
            if (j < d.n) {
                double acc = 0;
                for (std::int64_t p = 0; p < d.k; ++p)
                    acc += double(a[std::size_t(bt * d.stride_a + (d.trans_a ? p * d.lda + i : i * d.lda + p))]) *
                           double(b[std::size_t(bt * d.stride_b + (d.trans_b ? j * d.ldb + p : p * d.ldb + j))]);
                w = d.alpha * acc + (d.beta != 0 ? d.beta * double(c0[at]) : 0.0) + (d.bias ? double(bias[std::size_t(j)]) : 0.0);
            }
            got.push_back(c[at]);
            want.push_back(w);
        }
        // the first element of each C (NaN before a beta = 0 call) must be overwritten
        for (std::int64_t i = 0; i < d.batch; ++i) CHECK(std::isfinite(c[std::size_t(i * d.stride_c)]));
        test::require_close(got, want, 1e-5, test::gemm_atol(dtype::f32, d.k), "variant " + std::to_string(variant));
    }
}
