// CUDA embedding parity vs the CPU backend: lookup (exact), scatter-add gradient with repeated ids
// (accumulating), and the documented device-side behaviour for out-of-range ids (zero rows, no
// gradient) instead of an exception.
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

TEST_CASE("cuda embedding matches cpu", "[cuda][embedding]") {
    cpu::context c;
    cuda::context g;
    for (auto [n, dim, vocab] : std::vector<std::tuple<std::int64_t, std::int64_t, std::int64_t>>{
             {1, 1, 1}, {17, 5, 3}, {512, 384, 1000}, {300, 64, 49152}}) {
        INFO("n " << n << " dim " << dim << " vocab " << vocab);
        const auto table = random_floats(vocab * dim, 1), dout = random_floats(n * dim, 2),
                   dt0 = random_floats(vocab * dim, 3);
        const auto u = random_floats(n, 4, 0, 1);
        std::vector<std::int32_t> ids(n);
        for (std::int64_t i = 0; i < n; ++i) ids[i] = std::int32_t(u[i] * vocab) % std::int32_t(vocab);
        std::vector<float> out(n * dim), dt = dt0;
        cpu::embedding_forward(c, out.data(), ids.data(), table.data(), n, dim, vocab);
        cpu::embedding_backward(c, dt.data(), ids.data(), dout.data(), n, dim, vocab);
        dbuf<float> gtable(g, table), gdout(g, dout), gdt(g, dt0), gout(g, n * dim);
        dbuf<std::int32_t> gids(g, ids);
        cuda::embedding_forward(g, gout.data(), gids.data(), gtable.data(), n, dim, vocab);
        cuda::embedding_backward(g, gdt.data(), gids.data(), gdout.data(), n, dim, vocab);
        REQUIRE(gout.to_host() == out);  // a gather: bit-exact
        require_close(gdt.to_host(), dt, 1e-5, 1e-5, "dtable");
    }
}

TEST_CASE("cuda embedding writes zeros for out-of-range ids", "[cuda][embedding]") {
    cuda::context g;
    const auto table = random_floats(3 * 2, 5);
    dbuf<float> gtable(g, table), gout(g, 3 * 2), gdt(g, std::vector<float>(3 * 2, 0.0f)),
        gdout(g, std::vector<float>(3 * 2, 1.0f));
    dbuf<std::int32_t> gids(g, std::vector<std::int32_t>{2, 3, -1});
    cuda::embedding_forward(g, gout.data(), gids.data(), gtable.data(), 3, 2, 3);
    cuda::embedding_backward(g, gdt.data(), gids.data(), gdout.data(), 3, 2, 3);
    const auto out = gout.to_host(), dt = gdt.to_host();
    CHECK(out == std::vector<float>{table[4], table[5], 0, 0, 0, 0});
    CHECK(dt == std::vector<float>{0, 0, 0, 0, 1, 1});
}
