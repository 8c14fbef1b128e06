// Philox4x32-10 known-answer vectors (from the Random123 distribution's kat_vectors) and stream
// properties: reproducibility, independence of streams, uniform and normal moments.
#include <catch2/catch.hpp>

#include <cmath>

#include "hoprag/core/rng.hpp"

using namespace hoprag;

TEST_CASE("philox4x32-10 matches the Random123 known answers", "[rng]") {
    auto check = [](philox_block c, std::uint32_t k0, std::uint32_t k1, philox_block want) {
        const philox_block got = philox4x32_10(c, k0, k1);
        for (int i = 0; i < 4; ++i) REQUIRE(got.v[i] == want.v[i]);
    };
    check({{0, 0, 0, 0}}, 0, 0, {{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}});
    check({{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}}, 0xffffffffu, 0xffffffffu,
          {{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}});
    check({{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}}, 0xa4093822u, 0x299f31d0u,
          {{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}});
}

TEST_CASE("philox streams are reproducible and distinct", "[rng]") {
    const philox_stream a{123, 0}, b{123, 1}, c{124, 0};
    int same_b = 0, same_c = 0;
    for (std::uint64_t i = 0; i < 1000; ++i) {
        REQUIRE(a.bits(i) == philox_stream{123, 0}.bits(i));
        same_b += a.bits(i) == b.bits(i);
        same_c += a.bits(i) == c.bits(i);
    }
    REQUIRE(same_b < 3);
    REQUIRE(same_c < 3);
}

TEST_CASE("uniform and normal draws have the right moments", "[rng]") {
    const philox_stream s{7, 3};
    const int n = 200000;
    double su = 0, su2 = 0, sn = 0, sn2 = 0;
    for (int i = 0; i < n; ++i) {
        const double u = s.uniform(i), z = s.normal(i);
        REQUIRE(u >= 0.0);
        REQUIRE(u < 1.0);
        su += u, su2 += u * u, sn += z, sn2 += z * z;
    }
    REQUIRE(std::abs(su / n - 0.5) < 0.005);
    REQUIRE(std::abs(su2 / n - su / n * su / n - 1.0 / 12) < 0.002);
    REQUIRE(std::abs(sn / n) < 0.01);
    REQUIRE(std::abs(sn2 / n - 1.0) < 0.02);
}
