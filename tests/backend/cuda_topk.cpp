// CUDA top-k parity vs the CPU backend: identical values and indices (ties to the lower index,
// NaN last), k = 0 and k = cols, and k > cols rejected on the host.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <vector>

#include "hoprag/backend/buffer.hpp"
#include "hoprag/cpu/backend.hpp"
#include "hoprag/cuda/backend.hpp"
#include "support/reference.hpp"

using namespace hoprag;
using test::random_floats;

namespace {
template <class T>
using dbuf = buffer<cuda::context, T>;
}

TEST_CASE("cuda topk matches cpu", "[cuda][topk]") {
    cpu::context c;
    cuda::context g;
    for (auto [rows, cols, k] : std::vector<std::tuple<std::int64_t, std::int64_t, std::int64_t>>{
             {1, 1, 1}, {4, 17, 5}, {64, 2000, 200}, {3, 100, 100}, {2, 9, 0}}) {
        INFO("rows " << rows << " cols " << cols << " k " << k);
        auto x = random_floats(rows * cols, 1);
        for (std::int64_t i = 0; i < rows * cols; i += 7) x[i] = std::floor(x[i] * 3.0f);  // ties
        if (rows * cols > 5) x[5] = NAN;
        std::vector<float> v(rows * k);
        std::vector<std::int32_t> idx(rows * k);
        cpu::topk(c, v.data(), idx.data(), x.data(), rows, cols, k);
        dbuf<float> gx(g, x), gv(g, rows * k);
        dbuf<std::int32_t> gi(g, rows * k);
        cuda::topk(g, gv.data(), gi.data(), gx.data(), rows, cols, k);
        REQUIRE(gi.to_host() == idx);
        const auto gvh = gv.to_host();
        for (std::size_t j = 0; j < v.size(); ++j)
            REQUIRE((gvh[j] == v[j] || (std::isnan(gvh[j]) && std::isnan(v[j]))));
    }
    dbuf<float> gx(g, 4);
    dbuf<std::int32_t> gi(g, 4);
    CHECK_THROWS_AS(cuda::topk(g, gx.data(), gi.data(), gx.data(), 1, 4, 5), shape_error);
}
