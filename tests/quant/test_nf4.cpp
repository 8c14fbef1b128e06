// NF4 with double quantisation: the code table against N(0,1) quantiles computed here (bisection on
// erf, bitsandbytes' construction with offset 0.9677083), encode = nearest code (the branch-free
// midpoint search equals a direct nearest-code search with ties to the lower index, also on every float
// within 64 ulps of each midpoint, where float rounding could make them differ; the parallel nf4_quantize is independent of the thread count), block round trips
// with an error bound from the code gaps and the absmax's double-quantisation error, storage of
// ~4.127 bits per parameter, and the tiled dequantise-GEMM equal to a GEMM on the dequantised
// matrix (float64 reference).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <omp.h>

#include "hoprag/backend/compute_gemm.hpp"
#include "hoprag/cpu/backend.hpp"
#include "hoprag/cpu/nf4_gemm.hpp"
#include "hoprag/quant/nf4.hpp"
#include "hoprag/quant/none.hpp"
#include "support/reference.hpp"

using namespace hoprag;

namespace {
double norm_ppf(double p) {  // inverse standard normal CDF by bisection
    double lo = -10, hi = 10;
    for (int i = 0; i < 200; ++i) {
        const double mid = 0.5 * (lo + hi);
        (0.5 * (1 + std::erf(mid / std::sqrt(2.0))) < p ? lo : hi) = mid;
    }
    return 0.5 * (lo + hi);
}
std::vector<float> normal_floats(std::size_t n, std::uint64_t seed) {
    const philox_stream s{seed, 3};
    std::vector<float> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = s.normal(i) * (i % 7 == 0 ? 3.0f : 1.0f);  // uneven blocks
    return v;
}
}  // namespace

TEST_CASE("nf4 code table is the normalised N(0,1) quantile map", "[nf4]") {
    const double offset = 0.9677083;
    std::vector<double> want;
    for (int i = 0; i < 8; ++i) want.push_back(norm_ppf(offset + (0.5 - offset) * i / 8.0));   // 8 positive
    for (int i = 0; i < 7; ++i) want.push_back(-norm_ppf(offset + (0.5 - offset) * i / 7.0));  // 7 negative
    want.push_back(0.0);
    const double mx = *std::max_element(want.begin(), want.end());
    for (auto& w : want) w /= mx;
    std::sort(want.begin(), want.end());
    for (int i = 0; i < 16; ++i) {
        INFO("code " << i);
        CHECK(std::abs(quant::nf4_code(i) - want[static_cast<std::size_t>(i)]) < 2e-6);
        CHECK(quant::nf4_encode(quant::nf4_code(i)) == i);
    }
    CHECK(quant::nf4_code(7) == 0.0f);
    for (float v = -1.0f; v <= 1.0f; v += 0.001f) {  // encode picks the nearest code
        const float got = std::abs(v - quant::nf4_code(quant::nf4_encode(v)));
        for (int i = 0; i < 16; ++i) CHECK(got <= std::abs(v - quant::nf4_code(i)));
    }
}

TEST_CASE("nf4_encode equals a direct nearest-code search, and nf4_quantize does not depend on the threads", "[nf4]") {
    const auto direct = [](float v) {  // the plain search: smallest |v - code|, ties to the lower index
        int best = 0;
        for (int i = 1; i < 16; ++i)
            if (std::abs(v - quant::nf4_code(i)) < std::abs(v - quant::nf4_code(best))) best = i;
        return best;
    };
    std::vector<float> probe;
    for (int i = 0; i < 15; ++i) {
        float m = 0.5f * (quant::nf4_code(i) + quant::nf4_code(i + 1));
        for (int u = 0; u < 64; ++u) m = std::nextafter(m, -2.0f);
        for (int u = 0; u < 129; ++u, m = std::nextafter(m, 2.0f)) probe.push_back(m);
    }
    for (int i = -1100; i <= 1100; ++i) probe.push_back(float(i) / 1000.0f);
    for (float v : probe) {
        INFO("v = " << v);
        CHECK(int(quant::nf4_encode(v)) == direct(v));
    }
    const auto x = normal_floats(300 * 576, 9);
    const int before = omp_get_max_threads();
    omp_set_num_threads(1);
    const auto a = quant::nf4_quantize(x, 300, 576);
    omp_set_num_threads(3);
    const auto b = quant::nf4_quantize(x, 300, 576);
    omp_set_num_threads(before);
    CHECK(a.codes == b.codes);
    CHECK(a.qabsmax == b.qabsmax);
    CHECK(a.scale2 == b.scale2);
    CHECK(a.offset == b.offset);
}

TEST_CASE("nf4 double-quantised round trip stays within the code gaps", "[nf4]") {
    float max_gap = 0;
    for (int i = 0; i < 15; ++i) max_gap = std::max(max_gap, quant::nf4_code(i + 1) - quant::nf4_code(i));
    for (auto [rows, cols] : {std::pair<std::int64_t, std::int64_t>{1, 64}, {2, 96}, {37, 128}, {300, 576}}) {
        const auto x = normal_floats(static_cast<std::size_t>(rows * cols), 5 + rows);
        const auto t = quant::nf4_quantize(x, rows, cols);
        const auto y = quant::nf4_dequantize(t);
        double worst = 0, mse = 0, var = 0;
        for (std::int64_t b = 0; b < rows * cols / 64; ++b) {
            const float am_true = quant::nf4_block_absmax(x.data() + b * 64);
            const float am = quant::nf4_absmax(t.qabsmax.data(), t.scale2.data(), t.offset, b);
            // second level: linear int8 over [offset - scale2, offset + scale2]
            CHECK(std::abs(am - am_true) <= t.scale2[b / 256] / 127.0f * 0.5f + 1e-6f);
            for (std::int64_t i = b * 64; i < (b + 1) * 64; ++i) {
                const double bound = am * max_gap / 2 + std::abs(am - am_true) + 1e-6;
                worst = std::max(worst, std::abs(x[i] - y[i]) / bound);
                mse += (x[i] - y[i]) * double(x[i] - y[i]), var += double(x[i]) * x[i];
                // every decoded value is exactly a code times the decoded absmax
                bool on_grid = false;
                for (int c = 0; c < 16; ++c) on_grid = on_grid || y[i] == quant::nf4_code(c) * am;
                CHECK(on_grid);
            }
        }
        INFO(rows << "x" << cols << " relative mse " << mse / var);
        CHECK(worst <= 1.0);
        CHECK(mse / var < 0.02);  // NF4 on normal data: ~1% of the variance
    }
    CHECK_THROWS_AS(quant::nf4_quantize(std::vector<float>(100), 10, 10), shape_error);
}

TEST_CASE("nf4 storage is about 4.127 bits per parameter", "[nf4]") {
    const auto t = quant::nf4_quantize(std::vector<float>(4096 * 256, 0.5f), 4096, 256);
    CHECK(std::abs(t.bits_per_parameter() - 4.127) < 0.001);
    CHECK(std::abs(quant::nf4::bits_per_parameter - 4.127) < 0.001);
    CHECK(quant::none::bits_per_parameter == 32.0);
    // an all-zero tensor decodes to zeros (absmax 0)
    const auto z = quant::nf4_dequantize(quant::nf4_quantize(std::vector<float>(128, 0.0f), 2, 64));
    CHECK(std::all_of(z.begin(), z.end(), [](float v) { return v == 0.0f; }));
}

TEST_CASE("nf4 dequantise-GEMM equals GEMM on the dequantised weights", "[nf4]") {
    cpu::context ctx;
    for (auto [m, n, k, tile] : {std::tuple<std::int64_t, std::int64_t, std::int64_t, std::int64_t>{1, 64, 64, 256},
                                 {5, 300, 96, 64}, {17, 130, 576, 7}, {3, 2, 32, 1}}) {
        const auto w = quant::nf4_quantize(normal_floats(static_cast<std::size_t>(n * k), n), n, k);
        const auto wd = quant::nf4_dequantize(w);
        const auto x = test::random_floats(static_cast<std::size_t>(m * k), 9 + m);
        auto out = test::random_floats(static_cast<std::size_t>(m * n), 1 + m);
        const auto before = out;
        cpu::nf4_gemm(ctx, out.data(), x.data(), w, m, 0.5f, dtype::f32, tile);
        std::vector<double> want(static_cast<std::size_t>(m * n));
        for (std::int64_t i = 0; i < m; ++i)
            for (std::int64_t j = 0; j < n; ++j) {
                double s = 0.5 * before[i * n + j];
                for (std::int64_t c = 0; c < k; ++c) s += double(x[i * k + c]) * wd[j * k + c];
                want[i * n + j] = s;
            }
        // f32 sums of k products of size ~1: absolute error ~ sqrt(k) * 1e-6
        test::require_close(out, want, 1e-5, 1e-4, "nf4_gemm " + std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k));
    }
}

namespace {
/// x rounded to compute type t and back (round to nearest even).
float rounded(float x, dtype t) {
    if (t == dtype::bf16) return bf16::from_float(x).to_float();
    if (t == dtype::f16) return f16::from_float(x).to_float();
    return x;
}
}  // namespace

TEST_CASE("nf4 dequantise-GEMMs in bf16 and f16 multiply the rounded operands with f32 accumulation", "[nf4][mixed]") {
    cpu::context ctx;
    for (dtype t : {dtype::bf16, dtype::f16}) {
        for (auto [m, n, k, tile] : {std::tuple<std::int64_t, std::int64_t, std::int64_t, std::int64_t>{1, 64, 64, 256},
                                     {5, 300, 96, 64}, {17, 130, 576, 7}}) {
            INFO(dtype_name(t) << " " << m << "x" << n << "x" << k);
            const auto w = quant::nf4_quantize(normal_floats(static_cast<std::size_t>(n * k), n), n, k);
            const auto wd = quant::nf4_dequantize(w);
            const auto x = test::random_floats(static_cast<std::size_t>(m * k), 9 + m), dy = test::random_floats(static_cast<std::size_t>(m * n), 4 + m);
            auto out = test::random_floats(static_cast<std::size_t>(m * n), 1 + m), dx = test::random_floats(static_cast<std::size_t>(m * k), 2 + m);
            const auto out0 = out, dx0 = dx;
            cpu::nf4_gemm(ctx, out.data(), x.data(), w, m, 0.5f, t, tile);
            cpu::nf4_gemm_t(ctx, dx.data(), dy.data(), quant::view(w), m, 1.0f, t, tile);
            std::vector<double> want(out.size()), want_dx(dx.size()), exact(out.size());
            for (std::int64_t i = 0; i < m; ++i)
                for (std::int64_t j = 0; j < n; ++j) {
                    double s = 0.5 * out0[i * n + j], e = s;
                    for (std::int64_t c = 0; c < k; ++c) {
                        s += double(rounded(x[i * k + c], t)) * rounded(wd[j * k + c], t);
                        e += double(x[i * k + c]) * wd[j * k + c];
                    }
                    want[i * n + j] = s, exact[i * n + j] = e;
                }
            for (std::int64_t i = 0; i < m; ++i)
                for (std::int64_t c = 0; c < k; ++c) {
                    double s = dx0[i * k + c];
                    for (std::int64_t j = 0; j < n; ++j) s += double(rounded(dy[i * n + j], t)) * rounded(wd[j * k + c], t);
                    want_dx[i * k + c] = s;
                }
            test::require_close(out, want, 1e-5, 1e-4, "16-bit nf4_gemm");
            test::require_close(dx, want_dx, 1e-5, 1e-4, "16-bit nf4_gemm_t");
            // the rounding is real: the 16-bit product is measurably off the f32 one somewhere
            double worst = 0.0;
            for (std::size_t i = 0; i < out.size(); ++i) worst = std::max(worst, std::abs(out[i] - exact[i]));
            CHECK(worst > 1e-4);
        }
    }
}

TEST_CASE("compute_gemm rounds strided batched operands and leaves f32 alone", "[nf4][mixed]") {
    cpu::context ctx;
    // batch 2, A transposed with a padded leading dimension, B with a padded one
    gemm_desc d;
    d.m = 3, d.n = 5, d.k = 7, d.trans_a = true, d.lda = 4, d.ldb = 6, d.batch = 2, d.stride_a = 7 * 4, d.stride_b = 7 * 6, d.beta = 0.25f;
    const auto a = test::random_floats(2 * 7 * 4, 11, -3, 3), b = test::random_floats(2 * 7 * 6, 12, -3, 3);
    for (dtype t : {dtype::f32, dtype::bf16, dtype::f16}) {
        INFO(dtype_name(t));
        auto c = test::random_floats(2 * 3 * 5, 13);
        const auto c0 = c;
        compute_gemm(ctx, d, a.data(), b.data(), c.data(), t);
        std::vector<double> want(c.size());
        for (std::int64_t z = 0; z < 2; ++z)
            for (std::int64_t i = 0; i < 3; ++i)
                for (std::int64_t j = 0; j < 5; ++j) {
                    double s = 0.25 * c0[z * 15 + i * 5 + j];
                    for (std::int64_t q = 0; q < 7; ++q) s += double(rounded(a[z * 28 + q * 4 + i], t)) * rounded(b[z * 42 + q * 6 + j], t);
                    want[z * 15 + i * 5 + j] = s;
                }
        test::require_close(c, want, 1e-5, 1e-5, "compute_gemm");
    }
    std::vector<float> c(2 * 3 * 5);
    CHECK_THROWS_AS(compute_gemm(ctx, d, a.data(), b.data(), c.data(), dtype::i32), config_error);
}
