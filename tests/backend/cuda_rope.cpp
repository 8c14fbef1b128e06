// CUDA RoPE parity vs the CPU backend: forward and backward, both layouts, default and explicit
// positions.
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "hoprag/backend/buffer.hpp"
#include "hoprag/cpu/backend.hpp"
#include "hoprag/cuda/backend.hpp"
#include "support/reference.hpp"

using namespace hoprag;

TEST_CASE("cuda rope matches cpu", "[cuda][rope]") {
    cpu::context cctx;
    cuda::context gctx;
    const std::int64_t shapes[][4] = {{1, 1, 1, 2}, {2, 3, 5, 6}, {2, 37, 9, 64}, {1, 129, 3, 128}};
    for (auto [batch, seq, heads, head_dim] : shapes)
        for (auto style : {rope_style::half, rope_style::interleaved})
            for (bool explicit_pos : {false, true}) {
                const std::size_t n = batch * seq * heads * head_dim;
                const auto x = test::random_floats(n, 3 + n);
                std::vector<std::int32_t> pos(batch * seq);
                for (std::size_t i = 0; i < pos.size(); ++i) pos[i] = static_cast<std::int32_t>((i * 37) % 300);
                buffer<cuda::context, std::int32_t> gpos(gctx, pos);
                const std::int32_t* cp = explicit_pos ? pos.data() : nullptr;
                const std::int32_t* gp = explicit_pos ? gpos.data() : nullptr;

                std::vector<float> y = x, back = x;
                cpu::rope_forward(cctx, y.data(), cp, batch, seq, heads, head_dim, 10000.0f, style);
                cpu::rope_backward(cctx, back.data(), cp, batch, seq, heads, head_dim, 10000.0f, style);
                buffer<cuda::context, float> gy(gctx, x), gback(gctx, x);
                cuda::rope_forward(gctx, gy.data(), gp, batch, seq, heads, head_dim, 10000.0f, style);
                cuda::rope_backward(gctx, gback.data(), gp, batch, seq, heads, head_dim, 10000.0f, style);
                // CUDA powf/cosf/sinf are within a few ulp of glibc; at positions up to 300 an angle ulp is
                // ~2e-5 rad, so allow the same 3e-4 as the CPU-vs-float64 test.
                test::require_close(gy.to_host(), y, 1e-4, 3e-4, "cuda rope forward");
                test::require_close(gback.to_host(), back, 1e-4, 3e-4, "cuda rope backward");
            }
}
