// CUDA NF4 parity vs the CPU backend: block decode (bit-exact: the same HOPRAG_HOST_DEVICE code),
// dequantise-GEMM forward and input-gradient GEMM (odd m, rows not a multiple of the tile, blocks
// straddling rows), dropout masks (bit-exact), and a LoRA layer on an NF4 base (forward, dA, dB, dx).
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "hoprag/backend/buffer.hpp"
#include "hoprag/cpu/backend.hpp"
#include "hoprag/cuda/backend.hpp"
#include "hoprag/nn/lora.hpp"
#include "hoprag/quant/nf4_weight.hpp"
#include "support/reference.hpp"

using namespace hoprag;
using test::random_floats;
using test::require_close;

TEST_CASE("cuda nf4 decode, dequant-GEMM and its transpose match cpu", "[cuda][nf4]") {
    cpu::context c;
    cuda::context g;
    for (auto [rows, cols, m] : std::vector<std::tuple<std::int64_t, std::int64_t, std::int64_t>>{{1, 64, 1}, {6, 32, 3}, {1100, 96, 7}, {64, 576, 33}}) {
        const auto w = random_floats(rows * cols, 1, -2, 2);
        const auto t = quant::nf4_quantize(w, rows, cols);
        const quant::nf4_weight<cuda::context> dw(g, t);
        buffer<cuda::context, float> deq(g, static_cast<std::size_t>(rows * cols));
        cuda::nf4_dequantize_rows(g, dw.view(), 0, rows, deq.data());
        REQUIRE(deq.to_host() == quant::nf4_dequantize(t));

        const auto x = random_floats(m * cols, 2), dy = random_floats(m * rows, 3);
        auto out = random_floats(m * rows, 4), dx = random_floats(m * cols, 5);
        buffer<cuda::context, float> gx(g, x), gdy(g, dy), gout(g, out), gdx(g, dx);
        cpu::nf4_gemm(c, out.data(), x.data(), t, m, 0.5f);
        cuda::nf4_gemm(g, gout.data(), gx.data(), dw.view(), m, 0.5f);
        require_close(gout.to_host(), out, 1e-5, 1e-5, "nf4_gemm");
        cpu::nf4_gemm_t(c, dx.data(), dy.data(), quant::view(t), m, 1.0f);
        cuda::nf4_gemm_t(g, gdx.data(), gdy.data(), dw.view(), m, 1.0f);
        require_close(gdx.to_host(), dx, 1e-5, 1e-5, "nf4_gemm_t");
    }
}

TEST_CASE("cuda nf4 dequant-GEMMs in bf16 and f16 match the cpu's 16-bit path", "[cuda][nf4][mixed]") {
    cpu::context c;
    cuda::context g;
    for (dtype t : {dtype::bf16, dtype::f16})
        for (auto [rows, cols, m] : std::vector<std::tuple<std::int64_t, std::int64_t, std::int64_t>>{{6, 32, 3}, {1100, 96, 7}, {64, 576, 33}}) {
            INFO(dtype_name(t) << " " << rows << "x" << cols << " m " << m);
            const auto w = random_floats(rows * cols, 1, -2, 2);
            const auto q = quant::nf4_quantize(w, rows, cols);
            const quant::nf4_weight<cuda::context> dw(g, q);
            // the decode rounds exactly as the cpu does
            buffer<cuda::context, std::uint16_t> deq(g, static_cast<std::size_t>(rows * cols));
            cuda::nf4_dequantize_rows(g, dw.view(), 0, rows, deq.data(), t);
            std::vector<std::uint16_t> want(static_cast<std::size_t>(rows * cols));
            cpu::nf4_dequantize_rows(c, quant::view(q), 0, rows, want.data(), t);
            REQUIRE(deq.to_host() == want);

            const auto x = random_floats(m * cols, 2), dy = random_floats(m * rows, 3);
            auto out = random_floats(m * rows, 4), dx = random_floats(m * cols, 5);
            buffer<cuda::context, float> gx(g, x), gdy(g, dy), gout(g, out), gdx(g, dx);
            cpu::nf4_gemm(c, out.data(), x.data(), q, m, 0.5f, t);
            cuda::nf4_gemm(g, gout.data(), gx.data(), dw.view(), m, 0.5f, t);
            require_close(gout.to_host(), out, 1e-5, 1e-5, "16-bit nf4_gemm");
            cpu::nf4_gemm_t(c, dx.data(), dy.data(), quant::view(q), m, 1.0f, t);
            cuda::nf4_gemm_t(g, gdx.data(), gdy.data(), dw.view(), m, 1.0f, t);
            require_close(gdx.to_host(), dx, 1e-5, 1e-5, "16-bit nf4_gemm_t");
        }
}

TEST_CASE("cuda dropout masks equal cpu's", "[cuda][lora]") {
    cpu::context c;
    cuda::context g;
    const std::int64_t n = 10007;
    const auto x = random_floats(n, 6);
    std::vector<float> out(n);
    buffer<cuda::context, float> gx(g, x), gout(g, static_cast<std::size_t>(n));
    cpu::dropout(c, out.data(), x.data(), n, 0.1f, philox_stream{3, 9});
    cuda::dropout(g, gout.data(), gx.data(), n, 0.1f, philox_stream{3, 9});
    REQUIRE(gout.to_host() == out);
}

TEST_CASE("cuda lora layer on an NF4 base matches cpu (forward, dA, dB, dx)", "[cuda][lora][nf4]") {
    cpu::context c;
    cuda::context g;
    const std::int64_t m = 5, in = 64, out = 24, r = 4;
    const auto w = random_floats(out * in, 7), x = random_floats(m * in, 8), dy = random_floats(m * out, 9);
    const auto a = random_floats(r * in, 10), b = random_floats(out * r, 11);
    const nn::lora_dropout drop{0.2f, philox_stream{1, 2}};
    const auto run = [&](auto& ctx) {
        using C = std::remove_reference_t<decltype(ctx)>;
        auto base = nn::make_nf4(ctx, w, out, in);
        nn::lora_linear<C> l;
        l.in = in, l.out = out, l.rank = r, l.scale = 2.0f;
        l.a = buffer<C, float>(ctx, a), l.b = buffer<C, float>(ctx, b);
        buffer<C, float> bx(ctx, x), bdy(ctx, dy), y(ctx, static_cast<std::size_t>(m * out)), dx(ctx, static_cast<std::size_t>(m * in));
        nn::lora_saved<C> saved;
        nn::adapted_forward(ctx, base, &l, y.data(), bx.data(), m, 0.0f, drop, &saved);
        auto gr = nn::make_lora_grads(ctx, l);
        nn::adapted_backward(ctx, base, &l, &gr, dx.data(), bdy.data(), bx.data(), m, drop, &saved);
        return std::vector<std::vector<float>>{y.to_host(), dx.to_host(), gr.da.to_host(), gr.db.to_host()};
    };
    const auto want = run(c), got = run(g);
    for (std::size_t i = 0; i < want.size(); ++i) require_close(got[i], want[i], 1e-4, 1e-5, "output " + std::to_string(i));
}
