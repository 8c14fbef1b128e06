// CUDA parity of the optimiser ops: AdamW bit-equal to the CPU (several steps, decay on/off,
// grad_scale, bf16/f16 copies), sum_squares (incl. inf/NaN), scale in place and zero_fill against
// the CPU backend.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "hoprag/backend/buffer.hpp"
#include "hoprag/cpu/backend.hpp"
#include "hoprag/cuda/backend.hpp"
#include "hoprag/train/gradients.hpp"
#include "support/reference.hpp"

using namespace hoprag;
using hoprag::test::random_floats;

TEST_CASE("cuda adamw_update matches the CPU backend", "[cuda][train][adamw]") {
    cpu::context cctx;
    cuda::context gctx;
    const train::adamw_hparams h{0.9f, 0.99f, 1e-8f, 0.05f};
    for (std::int64_t n : {1, 3, 1000, 70001}) {
        for (bool decay : {true, false}) {
            for (dtype low : {dtype::bf16, dtype::f16}) {
                INFO("n = " << n << " decay = " << decay << " low = " << dtype_name(low));
                std::vector<float> w = random_floats(n, 1, -2.0f, 2.0f), m(n, 0.0f), v(n, 0.0f);
                std::vector<std::uint16_t> low_cpu(n);
                buffer<cuda::context, float> dw(gctx, w), dm(gctx, m), dv(gctx, v), dg(gctx, static_cast<std::size_t>(n));
                buffer<cuda::context, std::uint16_t> dlow(gctx, static_cast<std::size_t>(n));
                for (int t = 1; t <= 4; ++t) {
                    const auto g = random_floats(n, 2, -1.0f, 1.0f, static_cast<std::uint64_t>(t));
                    dg.assign(g);
                    const auto s = train::make_adamw_step(h, t, 3e-3f, 0.5f);
                    train::adamw_tensor ct{w.data(), m.data(), v.data(), g.data(), n, decay, low_cpu.data(), low, "cpu"};
                    train::adamw_tensor gt{dw.data(), dm.data(), dv.data(), dg.data(), n, decay, dlow.data(), low, "cuda"};
                    cpu::adamw_update(cctx, ct, s);
                    cuda::adamw_update(gctx, gt, s);
                }
                // one shared body with every product rounded on its own (mul_rn): bit-equal
                REQUIRE(dw.to_host() == w);
                REQUIRE(dm.to_host() == m);
                REQUIRE(dv.to_host() == v);
                const auto lg = dlow.to_host();
                const auto wg = dw.to_host();
                for (std::int64_t i = 0; i < n; ++i) {
                    const std::uint16_t want = low == dtype::bf16 ? bf16::from_float(wg[i]).bits : f16::from_float(wg[i]).bits;
                    REQUIRE(lg[i] == want);  // the copy is exactly the rounded device master weight
                }
            }
        }
    }
}

TEST_CASE("cuda sum_squares, scale in place and zero_fill match the CPU backend", "[cuda][train][grad]") {
    cpu::context cctx;
    cuda::context gctx;
    for (std::int64_t n : {1, 255, 256, 257, 100003, 3000000}) {
        INFO("n = " << n);
        auto x = random_floats(n, 9, -2.0f, 2.0f);
        buffer<cuda::context, float> dx(gctx, x);
        const double want = cpu::sum_squares(cctx, x.data(), n);
        const double got = cuda::sum_squares(gctx, dx.data(), n);
        REQUIRE(std::abs(got - want) <= 1e-12 * want);
        REQUIRE(cuda::sum_squares(gctx, dx.data(), n) == got);  // deterministic
        cuda::scale(gctx, dx.data(), dx.data(), 0.75f, n);
        cpu::scale(cctx, x.data(), x.data(), 0.75f, n);
        REQUIRE(dx.to_host() == x);
        cuda::zero_fill(gctx, dx.data(), n);
        REQUIRE(dx.to_host() == std::vector<float>(n, 0.0f));
    }
    auto x = random_floats(4097, 10);
    x[4000] = std::numeric_limits<float>::quiet_NaN();
    buffer<cuda::context, float> dx(gctx, x);
    REQUIRE(std::isnan(cuda::sum_squares(gctx, dx.data(), 4097)));
    x[4000] = std::numeric_limits<float>::infinity();
    dx.assign(x);
    REQUIRE(std::isinf(cuda::sum_squares(gctx, dx.data(), 4097)));
    REQUIRE(cuda::sum_squares(gctx, dx.data(), 0) == 0.0);

    // inspect_grads works through ADL on the CUDA context too
    train::adamw_tensor t{};
    t.grad = dx.data();
    t.param = t.m = t.v = dx.data();
    t.n = 4000;
    std::vector<train::adamw_tensor> ts{t};
    const auto r = train::inspect_grads(gctx, std::span<const train::adamw_tensor>(ts), 2.0f, 0.0, 1);
    double ref = 0.0;
    for (int i = 0; i < 4000; ++i) ref += double(x[i]) * x[i];
    REQUIRE(r.finite);
    REQUIRE(r.norm == Approx(std::sqrt(ref) / 2.0).epsilon(1e-9));
}
