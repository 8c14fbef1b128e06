// bf16 / f16 conversions: exhaustive round trips of every 16-bit pattern, and float -> 16-bit
// rounding checked against an independent float64 round-to-nearest-even on many random floats.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>

#include "hoprag/core/dtype.hpp"
#include "hoprag/core/rng.hpp"

using namespace hoprag;

namespace {

// Nearest-even rounding of x onto the set of finite values of a format, computed in float64 by
// enumerating the two neighbours. `decode` maps a 16-bit pattern to its value.
template <class Decode>
std::uint16_t reference_round(float x, Decode decode, std::uint16_t max_finite_bits, double overflow_threshold) {
    const bool neg = std::signbit(x);
    const double a = std::fabs(static_cast<double>(x));
    const std::uint16_t sign = neg ? 0x8000 : 0;
    if (a >= overflow_threshold) return sign | static_cast<std::uint16_t>(max_finite_bits + 1);  // infinity
    // binary search for the largest pattern with value <= a among positive finite patterns
    std::uint32_t lo = 0, hi = max_finite_bits;
    while (lo < hi) {
        const std::uint32_t mid = (lo + hi + 1) / 2;
        if (decode(static_cast<std::uint16_t>(mid)) <= a) lo = mid; else hi = mid - 1;
    }
    const double below = decode(static_cast<std::uint16_t>(lo));
    if (below == a || lo == max_finite_bits) return sign | static_cast<std::uint16_t>(lo);
    const double above = decode(static_cast<std::uint16_t>(lo + 1));
    const double d_lo = a - below, d_hi = above - a;
    std::uint32_t r = lo;
    if (d_hi < d_lo || (d_hi == d_lo && (lo & 1u))) r = lo + 1;
    return sign | static_cast<std::uint16_t>(r);
}

double decode_bf16(std::uint16_t b) { return bf16::from_bits(b).to_float(); }
double decode_f16(std::uint16_t b) {
    const int e = (b >> 10) & 0x1f, m = b & 0x3ff;
    const double v = e == 0 ? std::ldexp(m, -24) : std::ldexp(1024 + m, e - 25);
    return (b & 0x8000) ? -v : v;
}

}  // namespace

TEST_CASE("f16 decoding matches the IEEE binary16 definition for every pattern", "[dtype]") {
    for (std::uint32_t b = 0; b < 0x10000; ++b) {
        const auto h = f16::from_bits(static_cast<std::uint16_t>(b));
        const int e = (b >> 10) & 0x1f;
        if (e == 0x1f) {
            if (b & 0x3ff) REQUIRE(std::isnan(h.to_float()));
            else REQUIRE(std::isinf(h.to_float()));
            continue;
        }
        REQUIRE(static_cast<double>(h.to_float()) == decode_f16(static_cast<std::uint16_t>(b)));
        REQUIRE(f16::from_float(h.to_float()).bits == b);  // exact values survive the round trip
    }
}

TEST_CASE("bf16 round trip is exact for every non-NaN pattern", "[dtype]") {
    for (std::uint32_t b = 0; b < 0x10000; ++b) {
        const auto v = bf16::from_bits(static_cast<std::uint16_t>(b));
        if (std::isnan(v.to_float())) {
            REQUIRE(std::isnan(bf16::from_float(v.to_float()).to_float()));
            continue;
        }
        REQUIRE(bf16::from_float(v.to_float()).bits == b);
    }
}

TEST_CASE("float to bf16 and f16 rounds to nearest even", "[dtype]") {
    const philox_stream s{42, 0};
    // bf16 overflow: halfway between max finite 0x7f7f and 2^128
    const double bf16_overflow = decode_bf16(0x7f7f) + (decode_bf16(0x7f7f) - decode_bf16(0x7f7e)) / 2;
    for (std::uint64_t i = 0; i < 200000; ++i) {
        float x = bits_float(s.bits(i));
        if (std::isnan(x) || std::isinf(x)) continue;
        // f16: bring most samples into its range by scaling the exponent
        int exponent = 0;
        const float xh = std::ldexp(std::frexp(x, &exponent), static_cast<int>(s.bits(i + (1ull << 40)) % 44) - 28);
        INFO("x = " << x << " xh = " << xh);
        REQUIRE(bf16::from_float(x).bits == reference_round(x, decode_bf16, 0x7f7f, bf16_overflow));
        REQUIRE(f16::from_float(xh).bits == reference_round(xh, decode_f16, 0x7bff, 65520.0));
    }
    SECTION("ties and specials") {
        REQUIRE(f16::from_float(65519.0f).bits == 0x7bff);
        REQUIRE(f16::from_float(65520.0f).bits == 0x7c00);
        REQUIRE(f16::from_float(std::ldexp(1.0f, -25)).bits == 0x0000);          // tie to even (zero)
        REQUIRE(f16::from_float(std::ldexp(1.5f, -24)).bits == 0x0002);          // 1.5 ulp -> 2
        REQUIRE(f16::from_float(-0.0f).bits == 0x8000);
        REQUIRE(bf16::from_float(1.0f + std::ldexp(1.0f, -8)).bits == 0x3f80);   // tie to even
        REQUIRE(bf16::from_float(1.0f + 3 * std::ldexp(1.0f, -8)).bits == 0x3f82);
        REQUIRE(std::isnan(bf16::from_float(std::numeric_limits<float>::quiet_NaN()).to_float()));
        REQUIRE(std::isnan(f16::from_float(std::numeric_limits<float>::signaling_NaN()).to_float()));
    }
}
