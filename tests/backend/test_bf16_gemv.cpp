// bf16 matrix-vector product (cpu/bf16_gemv.hpp), the LM head of nf4 decode: the AVX-512 kernel
// (when the CPU has it) and the scalar loop against a float64 product with the bf16-rounded matrix
// widened back to f32 (the only rounding the kernel may add is f32 accumulation), for tiny, odd
// (k % 16 != 0, k < 16, n = 1) and SmolLM2-head-like shapes with m = 1..3; y is overwritten (NaN
// in y stays out); identical results for 1 and 2 threads; to_bf16 rounds to nearest even; negative
// sizes refused.
#include <catch2/catch.hpp>

#include <omp.h>

#include <cmath>
#include <limits>
#include <tuple>

#include "hoprag/cpu/backend.hpp"
#include "support/reference.hpp"

using namespace hoprag;

TEST_CASE("bf16_gemv equals the float64 product with the bf16 matrix", "[bf16][gemv]") {
    cpu::context ctx;
    for (auto [m, n, k] : {std::tuple<std::int64_t, std::int64_t, std::int64_t>{1, 1, 1}, {1, 3, 7}, {2, 5, 16}, {1, 33, 17}, {3, 19, 45},
                           {1, 577, 576}, {2, 101, 96}, {1, 2, 0}}) {
        const auto wf = test::random_floats(static_cast<std::size_t>(n * k), 3 + n + k, -2.0f, 2.0f);
        const auto w = cpu::to_bf16(wf.data(), n * k);
        const auto x = test::random_floats(static_cast<std::size_t>(m * k), 5 + k);
        std::vector<double> want(static_cast<std::size_t>(m * n));
        for (std::int64_t i = 0; i < m; ++i)
            for (std::int64_t r = 0; r < n; ++r) {
                double s = 0.0;
                for (std::int64_t c = 0; c < k; ++c) s += double(x[i * k + c]) * double(w[r * k + c].to_float());
                want[i * n + r] = s;
            }
        for (bool scalar : {false, true}) {
            std::vector<float> y(static_cast<std::size_t>(m * n), std::numeric_limits<float>::quiet_NaN());
            cpu::bf16_gemv(ctx, y.data(), x.data(), w.data(), m, n, k, scalar);
            test::require_close(y, want, 1e-5, 1e-5,
                                std::string(scalar ? "scalar" : "simd") + " bf16_gemv " + std::to_string(m) + "x" + std::to_string(n) + "x" +
                                    std::to_string(k));
        }
    }
}

TEST_CASE("bf16_gemv does not depend on the thread count, and to_bf16 rounds to nearest even", "[bf16][gemv]") {
    cpu::context ctx;
    const std::int64_t n = 301, k = 576;
    const auto wf = test::random_floats(static_cast<std::size_t>(n * k), 11);
    const auto w = cpu::to_bf16(wf.data(), n * k);
    for (std::size_t i = 0; i < wf.size(); i += 97) CHECK(w[i].bits == bf16::from_float(wf[i]).bits);
    const auto x = test::random_floats(static_cast<std::size_t>(k), 12);
    std::vector<float> y1(static_cast<std::size_t>(n)), y2(y1.size());
    const int before = omp_get_max_threads();
    omp_set_num_threads(1);
    cpu::bf16_gemv(ctx, y1.data(), x.data(), w.data(), 1, n, k);
    omp_set_num_threads(2);
    cpu::bf16_gemv(ctx, y2.data(), x.data(), w.data(), 1, n, k);
    omp_set_num_threads(before);
    CHECK(y1 == y2);
    CHECK_THROWS_AS(cpu::bf16_gemv(ctx, y1.data(), x.data(), w.data(), -1, n, k), shape_error);
}
