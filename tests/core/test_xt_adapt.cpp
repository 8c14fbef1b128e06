// xt_adapt: xtensor views of host buffers — row-major element order, writes reaching the buffer,
// no copy, read-only views of const data, fixed and dynamic rank, xtensor expressions over the
// view, and shape_error for a shape that does not cover the buffer or has the wrong rank.
#include <catch2/catch.hpp>

#include <numeric>
#include <span>
#include <type_traits>
#include <vector>

#include <xtensor/xmanipulation.hpp>
#include <xtensor/xreducer.hpp>
#include <xtensor/xview.hpp>

#include "hoprag/core/xt_adapt.hpp"

using namespace hoprag;

TEST_CASE("xt_adapt: a vector viewed row-major with a fixed rank, without a copy", "[core][xtensor]") {
    std::vector<float> v(6);
    std::iota(v.begin(), v.end(), 0.0f);  // 0 1 2 / 3 4 5
    auto a = xt_adapt<2>(v, {2, 3});
    static_assert(decltype(a)::rank == 2);
    REQUIRE(a.shape(0) == 2);
    REQUIRE(a.shape(1) == 3);
    REQUIRE(a.data() == v.data());
    for (std::size_t i = 0; i < 2; ++i)
        for (std::size_t j = 0; j < 3; ++j) REQUIRE(a(i, j) == v[i * 3 + j]);
    a(1, 0) = 30.0f;
    REQUIRE(v[3] == 30.0f);

    // xtensor expressions over the buffer
    REQUIRE(xt::sum(a)() == 0 + 1 + 2 + 30 + 4 + 5);
    const auto t = xt::transpose(a);
    REQUIRE(t(2, 1) == 5.0f);
    REQUIRE(t(0, 1) == 30.0f);
    const auto row = xt::row(a, 1);
    REQUIRE(row(2) == 5.0f);
}

TEST_CASE("xt_adapt: dynamic rank, spans and const data", "[core][xtensor]") {
    std::vector<std::int32_t> v(24);
    std::iota(v.begin(), v.end(), 0);
    const std::vector<std::int32_t>& cv = v;
    const auto a = xt_adapt(cv, {2, 3, 4});
    static_assert(std::is_const_v<std::remove_reference_t<decltype(*a.data())>>, "a view of const data is read-only");
    REQUIRE(a.dimension() == 3);
    REQUIRE(a(1, 2, 3) == 23);
    REQUIRE(a(1, 0, 2) == 14);

    // a span of the last 12 elements as [4, 3]
    auto b = xt_adapt<2>(std::span<std::int32_t>(v).subspan(12), {4, 3});
    REQUIRE(b(0, 0) == 12);
    REQUIRE(b(3, 2) == 23);
    b(2, 1) = -1;
    REQUIRE(v[12 + 2 * 3 + 1] == -1);

    // rank 0: one element
    std::vector<double> one{2.5};
    REQUIRE(xt_adapt(one, shape{})() == 2.5);
}

TEST_CASE("xt_adapt: a shape that does not cover the buffer is refused", "[core][xtensor]") {
    std::vector<float> v(5);
    REQUIRE_THROWS_AS(xt_adapt<2>(v, {2, 3}), shape_error);
    REQUIRE_THROWS_WITH(xt_adapt(v, {2, 3}), Catch::Contains("shape [2, 3] holds 6 elements but the buffer holds 5"));
    REQUIRE_THROWS_WITH(xt_adapt<2>(v, {1, 4}), Catch::Contains("holds 4 elements but the buffer holds 5"));
    std::vector<float> w(6);
    REQUIRE_THROWS_AS(xt_adapt<3>(w, {2, 3}), shape_error);
    REQUIRE_THROWS_WITH(xt_adapt<3>(w, {2, 3}), Catch::Contains("rank 2") && Catch::Contains("rank 3"));
    REQUIRE_NOTHROW(xt_adapt<3>(w, {2, 3, 1}));
}
