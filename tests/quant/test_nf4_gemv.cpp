// NF4 matrix-vector product on the codes (cpu/nf4_gemv.hpp), the decode path of nf4_gemm for
// m <= 4: the AVX-512 kernel (when the CPU has it) and the scalar loop against a float64 product
// with the dequantised matrix, for tiny, odd and SmolLM2-sized shapes, beta 0 (y not read: NaN in y
// stays out) and beta 0.5; results identical for 1 and 2 threads; k % 64 != 0 refused; nf4_gemm
// with m <= 4 takes this path and m > 4 the tiled one, both matching the reference.
#include <catch2/catch.hpp>

#include <omp.h>

#include <cmath>
#include <limits>
#include <tuple>

#include "hoprag/cpu/backend.hpp"
#include "hoprag/cpu/nf4_gemm.hpp"
#include "hoprag/cpu/nf4_gemv.hpp"
#include "hoprag/quant/nf4.hpp"
#include "support/reference.hpp"

using namespace hoprag;

namespace {
std::vector<double> reference(const std::vector<float>& wd, const std::vector<float>& x, const std::vector<float>& y0, std::int64_t m,
                              std::int64_t n, std::int64_t k, float beta) {
    std::vector<double> want(static_cast<std::size_t>(m * n));
    for (std::int64_t i = 0; i < m; ++i)
        for (std::int64_t j = 0; j < n; ++j) {
            double s = beta == 0.0f ? 0.0 : double(beta) * y0[i * n + j];
            for (std::int64_t c = 0; c < k; ++c) s += double(x[i * k + c]) * wd[j * k + c];
            want[i * n + j] = s;
        }
    return want;
}
}  // namespace

TEST_CASE("nf4_gemv equals the float64 product with the dequantised matrix", "[nf4][gemv]") {
    cpu::context ctx;
    for (auto [m, n, k] : {std::tuple<std::int64_t, std::int64_t, std::int64_t>{1, 1, 64}, {1, 3, 128}, {2, 577, 64}, {1, 192, 576},
                           {4, 37, 1536}, {3, 5, 320}}) {
        const auto w = quant::nf4_quantize(test::random_floats(static_cast<std::size_t>(n * k), 3 + n), n, k);
        const auto wd = quant::nf4_dequantize(w);
        const auto x = test::random_floats(static_cast<std::size_t>(m * k), 5 + k);
        for (float beta : {0.0f, 0.5f})
            for (bool scalar : {false, true}) {
                auto y0 = test::random_floats(static_cast<std::size_t>(m * n), 7 + m);
                if (beta == 0.0f) std::fill(y0.begin(), y0.end(), std::numeric_limits<float>::quiet_NaN());
                auto y = y0;
                cpu::nf4_gemv(ctx, y.data(), x.data(), quant::view(w), m, beta, scalar);
                const auto want = reference(wd, x, y0, m, n, k, beta);
                test::require_close(y, want, 1e-5, 1e-4,
                                    std::string(scalar ? "scalar" : "simd") + " nf4_gemv " + std::to_string(m) + "x" + std::to_string(n) + "x" +
                                        std::to_string(k) + " beta " + std::to_string(beta));
            }
    }
}

TEST_CASE("nf4_gemv does not depend on the thread count and refuses k % 64 != 0", "[nf4][gemv]") {
    cpu::context ctx;
    const std::int64_t n = 301, k = 576;
    const auto w = quant::nf4_quantize(test::random_floats(static_cast<std::size_t>(n * k), 11), n, k);
    const auto x = test::random_floats(static_cast<std::size_t>(k), 12);
    std::vector<float> y1(static_cast<std::size_t>(n)), y2(y1.size());
    const int before = omp_get_max_threads();
    omp_set_num_threads(1);
    cpu::nf4_gemv(ctx, y1.data(), x.data(), quant::view(w), 1);
    omp_set_num_threads(2);
    cpu::nf4_gemv(ctx, y2.data(), x.data(), quant::view(w), 1);
    omp_set_num_threads(before);
    CHECK(y1 == y2);

    const auto odd = quant::nf4_quantize(test::random_floats(2 * 96, 13), 2, 96);
    std::vector<float> y(2);
    CHECK_THROWS_AS(cpu::nf4_gemv(ctx, y.data(), x.data(), quant::view(odd), 1), shape_error);
}

TEST_CASE("nf4_gemm takes the matrix-vector path for m <= 4 and tiles for larger m", "[nf4][gemv]") {
    cpu::context ctx;
    const std::int64_t n = 130, k = 192;
    const auto w = quant::nf4_quantize(test::random_floats(static_cast<std::size_t>(n * k), 21), n, k);
    const auto wd = quant::nf4_dequantize(w);
    for (std::int64_t m : {std::int64_t{1}, cpu::nf4_gemv_max_rows, cpu::nf4_gemv_max_rows + 1, std::int64_t{9}}) {
        const auto x = test::random_floats(static_cast<std::size_t>(m * k), 22 + m);
        const auto y0 = test::random_floats(static_cast<std::size_t>(m * n), 23 + m);
        auto y = y0, yv = y0;
        cpu::nf4_gemm(ctx, y.data(), x.data(), w, m, 0.25f);
        test::require_close(y, reference(wd, x, y0, m, n, k, 0.25f), 1e-5, 1e-4, "nf4_gemm m=" + std::to_string(m));
        if (m <= cpu::nf4_gemv_max_rows) {
            cpu::nf4_gemv(ctx, yv.data(), x.data(), quant::view(w), m, 0.25f);
            CHECK(y == yv);  // the same path, bit for bit
        }
    }
}
