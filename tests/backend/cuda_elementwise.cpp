// CUDA elementwise ops parity vs the CPU backend on the same inputs: add, scale, cast (all nine
// f32/bf16/f16 pairs, bit-exact), sum_rows (accumulating), GELU (erf, tanh), SiLU, SwiGLU.
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
}

TEST_CASE("cuda add, scale, sum_rows match cpu", "[cuda][elementwise]") {
    cpu::context c;
    cuda::context g;
    for (std::int64_t n : {1, 3, 17, 1000, 100003}) {
        const auto x = random_floats(n, 1, -3, 3), y = random_floats(n, 2, -3, 3);
        std::vector<float> out(n);
        dbuf<float> gx(g, x), gy(g, y), gout(g, n);
        cpu::add(c, out.data(), x.data(), y.data(), n);
        cuda::add(g, gout.data(), gx.data(), gy.data(), n);
        REQUIRE(gout.to_host() == out);  // one IEEE add: bit-exact
        cpu::scale(c, out.data(), x.data(), 0.77f, n);
        cuda::scale(g, gout.data(), gx.data(), 0.77f, n);
        REQUIRE(gout.to_host() == out);  // one IEEE multiply: bit-exact
    }
    for (auto [rows, cols] : std::vector<std::pair<std::int64_t, std::int64_t>>{{1, 1}, {5, 17}, {300, 1000}}) {
        const auto x = random_floats(rows * cols, 3);
        auto out = random_floats(cols, 4);
        dbuf<float> gx(g, x), gout(g, out);
        cpu::sum_rows(c, out.data(), x.data(), rows, cols);
        cuda::sum_rows(g, gout.data(), gx.data(), rows, cols);
        require_close(gout.to_host(), out, 1e-5, 1e-5, "sum_rows");
    }
}

TEST_CASE("cuda cast matches cpu bit for bit", "[cuda][elementwise]") {
    cpu::context c;
    cuda::context g;
    const std::int64_t n = 4099;
    const auto x = random_floats(n, 5, -70000, 70000);
    const auto small = random_floats(n, 6, -1e-6f, 1e-6f);  // f16 subnormals
    const dtype types[] = {dtype::f32, dtype::bf16, dtype::f16};
    for (const auto& src : {x, small}) {
        for (dtype from : types) {
            // source in `from` (made on the CPU), then every target type on both backends
            std::vector<std::uint8_t> in(n * dtype_size(from));
            cpu::cast(c, in.data(), from, src.data(), dtype::f32, n);
            dbuf<std::uint8_t> gin(g, in);
            for (dtype to : types) {
                INFO(dtype_name(from) << " -> " << dtype_name(to));
                std::vector<std::uint8_t> out(n * dtype_size(to));
                dbuf<std::uint8_t> gout(g, out.size());
                cpu::cast(c, out.data(), to, in.data(), from, n);
                cuda::cast(g, gout.data(), to, gin.data(), from, n);
                REQUIRE(gout.to_host() == out);
            }
        }
    }
    dbuf<float> b(g, 4);
    CHECK_THROWS_AS(cuda::cast(g, b.data(), dtype::i64, b.data(), dtype::f32, 1), config_error);
}

TEST_CASE("cuda activations match cpu", "[cuda][elementwise]") {
    cpu::context c;
    cuda::context g;
    for (std::int64_t n : {1, 17, 100003}) {
        const auto x = random_floats(n, 7, -8, 8), up = random_floats(n, 8, -2, 2), dout = random_floats(n, 9);
        dbuf<float> gx(g, x), gup(g, up), gdout(g, dout), gout(g, n), gdx(g, n), gdup(g, n);
        std::vector<float> out(n), dx(n), dup(n);
        for (gelu_kind kind : {gelu_kind::erf, gelu_kind::tanh}) {
            cpu::gelu_forward(c, out.data(), x.data(), n, kind);
            cuda::gelu_forward(g, gout.data(), gx.data(), n, kind);
            require_close(gout.to_host(), out, 1e-5, 1e-6, "gelu forward");
            cpu::gelu_backward(c, dx.data(), dout.data(), x.data(), n, kind);
            cuda::gelu_backward(g, gdx.data(), gdout.data(), gx.data(), n, kind);
            require_close(gdx.to_host(), dx, 1e-4, 1e-6, "gelu backward");
        }
        cpu::silu_forward(c, out.data(), x.data(), n);
        cuda::silu_forward(g, gout.data(), gx.data(), n);
        require_close(gout.to_host(), out, 1e-5, 1e-6, "silu forward");
        cpu::silu_backward(c, dx.data(), dout.data(), x.data(), n);
        cuda::silu_backward(g, gdx.data(), gdout.data(), gx.data(), n);
        require_close(gdx.to_host(), dx, 1e-5, 1e-6, "silu backward");
        cpu::swiglu_forward(c, out.data(), x.data(), up.data(), n);
        cuda::swiglu_forward(g, gout.data(), gx.data(), gup.data(), n);
        require_close(gout.to_host(), out, 1e-5, 1e-6, "swiglu forward");
        cpu::swiglu_backward(c, dx.data(), dup.data(), dout.data(), x.data(), up.data(), n);
        cuda::swiglu_backward(g, gdx.data(), gdup.data(), gdout.data(), gx.data(), gup.data(), n);
        require_close(gdx.to_host(), dx, 1e-5, 1e-6, "swiglu dgate");
        require_close(gdup.to_host(), dup, 1e-5, 1e-6, "swiglu dup");
    }
}
