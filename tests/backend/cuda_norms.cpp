// CUDA LayerNorm and RMSNorm parity vs the CPU backend: forward (out, mean, rstd) and backward
// (dx, accumulated dw and db) on tiny, odd and wide rows, with and without affine parameters.
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "hoprag/backend/buffer.hpp"
#include "hoprag/cpu/backend.hpp"
#include "hoprag/cuda/backend.hpp"
#include "support/reference.hpp"

using namespace hoprag;
using test::random_floats;
using test::require_close;

namespace {
template <class T>
using dbuf = buffer<cuda::context, T>;
const std::vector<std::pair<std::int64_t, std::int64_t>> shapes{{1, 1},     {1, 3},     {7, 17},
                                                                {33, 1000}, {300, 384}, {2, 4097}};
}  // namespace

TEST_CASE("cuda layernorm matches cpu", "[cuda][norms]") {
    cpu::context c;
    cuda::context g;
    for (auto [rows, cols] : shapes) {
        for (bool affine : {true, false}) {
            INFO("rows " << rows << " cols " << cols << " affine " << affine);
            const std::size_t n = rows * cols;
            const auto x = random_floats(n, 1, -2, 3), dout = random_floats(n, 2);
            const auto w = random_floats(cols, 3), b = random_floats(cols, 4), dw0 = random_floats(cols, 5),
                       db0 = random_floats(cols, 6);
            std::vector<float> out(n), mean(rows), rstd(rows), dx(n), dw = dw0, db = db0;
            const float* wp = affine ? w.data() : nullptr;
            const float* bp = affine ? b.data() : nullptr;
            cpu::layernorm_forward(c, out.data(), mean.data(), rstd.data(), x.data(), wp, bp, rows, cols, 1e-5f);
            cpu::layernorm_backward(c, dx.data(), dw.data(), db.data(), dout.data(), x.data(), wp, mean.data(),
                                    rstd.data(), rows, cols);
            dbuf<float> gx(g, x), gdout(g, dout), gw(g, w), gb(g, b), gdw(g, dw0), gdb(g, db0), gout(g, n),
                gmean(g, rows), gr(g, rows), gdx(g, n);
            const float* gwp = affine ? gw.data() : nullptr;
            const float* gbp = affine ? gb.data() : nullptr;
            cuda::layernorm_forward(g, gout.data(), gmean.data(), gr.data(), gx.data(), gwp, gbp, rows, cols, 1e-5f);
            cuda::layernorm_backward(g, gdx.data(), gdw.data(), gdb.data(), gdout.data(), gx.data(), gwp, gmean.data(),
                                     gr.data(), rows, cols);
            require_close(gout.to_host(), out, 1e-4, 1e-5, "out");
            require_close(gmean.to_host(), mean, 1e-4, 1e-6, "mean");
            require_close(gr.to_host(), rstd, 1e-4, 1e-6, "rstd");
            require_close(gdx.to_host(), dx, 1e-3, 1e-4, "dx");
            require_close(gdw.to_host(), dw, 1e-4, 1e-4, "dw");
            require_close(gdb.to_host(), db, 1e-4, 1e-4, "db");
        }
    }
}

TEST_CASE("cuda rmsnorm matches cpu", "[cuda][norms]") {
    cpu::context c;
    cuda::context g;
    for (auto [rows, cols] : shapes) {
        INFO("rows " << rows << " cols " << cols);
        const std::size_t n = rows * cols;
        const auto x = random_floats(n, 7, -2, 3), dout = random_floats(n, 8);
        const auto w = random_floats(cols, 9), dw0 = random_floats(cols, 10);
        std::vector<float> out(n), rstd(rows), dx(n), dw = dw0;
        cpu::rmsnorm_forward(c, out.data(), rstd.data(), x.data(), w.data(), rows, cols, 1e-6f);
        cpu::rmsnorm_backward(c, dx.data(), dw.data(), dout.data(), x.data(), w.data(), rstd.data(), rows, cols);
        dbuf<float> gx(g, x), gdout(g, dout), gw(g, w), gdw(g, dw0), gout(g, n), gr(g, rows), gdx(g, n);
        cuda::rmsnorm_forward(g, gout.data(), gr.data(), gx.data(), gw.data(), rows, cols, 1e-6f);
        cuda::rmsnorm_backward(g, gdx.data(), gdw.data(), gdout.data(), gx.data(), gw.data(), gr.data(), rows, cols);
        require_close(gout.to_host(), out, 1e-4, 1e-5, "out");
        require_close(gr.to_host(), rstd, 1e-4, 1e-6, "rstd");
        require_close(gdx.to_host(), dx, 1e-3, 1e-4, "dx");
        require_close(gdw.to_host(), dw, 1e-4, 1e-4, "dw");
    }
}
