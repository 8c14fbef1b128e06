// CUDA softmax parity vs the CPU backend: forward with and without per-row limits (incl. 0) and
// backward, on tiny, odd and wide rows.
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "hoprag/backend/buffer.hpp"
#include "hoprag/cpu/backend.hpp"
#include "hoprag/cuda/backend.hpp"
#include "support/reference.hpp"

using namespace hoprag;

TEST_CASE("cuda softmax matches cpu", "[cuda][softmax]") {
    cpu::context cctx;
    cuda::context gctx;
    const std::int64_t shapes[][2] = {{1, 1}, {3, 7}, {17, 33}, {300, 129}, {2, 32000}};
    for (auto [rows, cols] : shapes) {
        const auto x = test::random_floats(rows * cols, 1 + cols, -6.0f, 6.0f);
        const auto dout = test::random_floats(rows * cols, 2 + cols);
        std::vector<std::int32_t> limit(rows);
        for (std::int64_t r = 0; r < rows; ++r) limit[r] = static_cast<std::int32_t>((r * 7919) % (cols + 2)) - 1;
        for (bool masked : {false, true}) {
            std::vector<float> out(x.size()), dx(x.size());
            cpu::softmax_forward(cctx, out.data(), x.data(), rows, cols, masked ? limit.data() : nullptr);
            cpu::softmax_backward(cctx, dx.data(), dout.data(), out.data(), rows, cols);

            buffer<cuda::context, float> gx(gctx, x), gdout(gctx, dout), gout(gctx, x.size()), gdx(gctx, x.size());
            buffer<cuda::context, std::int32_t> glimit(gctx, limit);
            cuda::softmax_forward(gctx, gout.data(), gx.data(), rows, cols, masked ? glimit.data() : nullptr);
            cuda::softmax_backward(gctx, gdx.data(), gdout.data(), gout.data(), rows, cols);
            // Row sums run in SIMD order on the CPU and sequentially on the GPU: allow ~sqrt(cols) ulp.
            test::require_close(gout.to_host(), out, 1e-4, 1e-7, "cuda softmax forward");
            test::require_close(gdx.to_host(), dx, 1e-4, 1e-7, "cuda softmax backward");
        }
    }
}
