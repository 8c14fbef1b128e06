// Counter-based random numbers: Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as
// 1, 2, 3", SC'11). A draw is a pure function of (key, counter), so the CPU loop and a CUDA kernel
// that ask for element i of a stream get the same bits, in any order and on any thread count.
// `philox_stream` maps element indices to counters: element i lives in block i / 4, lane i % 4.
#pragma once

#include <cmath>
#include <cstdint>

#include "hoprag/core/config.hpp"

namespace hoprag {

struct philox_block {
    std::uint32_t v[4];  // four 32-bit outputs (or inputs: the counter)
};

namespace detail {
HOPRAG_INLINE void mulhilo32(std::uint32_t a, std::uint32_t b, std::uint32_t& hi, std::uint32_t& lo) {
    const std::uint64_t p = static_cast<std::uint64_t>(a) * b;
    hi = static_cast<std::uint32_t>(p >> 32);
    lo = static_cast<std::uint32_t>(p);
}
}  // namespace detail

/// Philox4x32 with 10 rounds of the 128-bit counter `ctr` under the 64-bit key (k0, k1).
HOPRAG_INLINE philox_block philox4x32_10(philox_block ctr, std::uint32_t k0, std::uint32_t k1) {
    constexpr std::uint32_t m0 = 0xD2511F53u, m1 = 0xCD9E8D57u;
    constexpr std::uint32_t w0 = 0x9E3779B9u, w1 = 0xBB67AE85u;
    for (int round = 0; round < 10; ++round) {
        std::uint32_t hi0, lo0, hi1, lo1;
        detail::mulhilo32(m0, ctr.v[0], hi0, lo0);
        detail::mulhilo32(m1, ctr.v[2], hi1, lo1);
        ctr = philox_block{{hi1 ^ ctr.v[1] ^ k0, lo1, hi0 ^ ctr.v[3] ^ k1, lo0}};
        k0 += w0;
        k1 += w1;
    }
    return ctr;
}

/// Uniform float in [0, 1) from the top 24 bits of `x` (exactly representable steps of 2^-24).
HOPRAG_INLINE float uint_to_unit_float(std::uint32_t x) { return static_cast<float>(x >> 8) * (1.0f / 16777216.0f); }

/// A stream of random numbers: key = seed, counter = (element block, stream id).
/// Element `i` of the stream is the same on every backend.
struct philox_stream {
    std::uint64_t seed = 0;    // key
    std::uint64_t stream = 0;  // distinguishes independent streams under one seed (layer, step, ...)

    /// 32 random bits for element i.
    HOPRAG_INLINE std::uint32_t bits(std::uint64_t i) const {
        const philox_block c{{static_cast<std::uint32_t>(i >> 2), static_cast<std::uint32_t>(i >> 34),
                              static_cast<std::uint32_t>(stream), static_cast<std::uint32_t>(stream >> 32)}};
        const philox_block r = philox4x32_10(c, static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32));
        return r.v[i & 3u];
    }
    /// Uniform in [0, 1) for element i.
    HOPRAG_INLINE float uniform(std::uint64_t i) const { return uint_to_unit_float(bits(i)); }
    /// Standard normal for element i (Box-Muller on elements 2i and 2i+1 of a sibling stream).
    HOPRAG_INLINE float normal(std::uint64_t i) const {
        const philox_stream s{seed, stream ^ 0x8000000000000000ull};
        const float u1 = 1.0f - s.uniform(2 * i);  // (0, 1]
        const float u2 = s.uniform(2 * i + 1);
        return sqrtf(-2.0f * logf(u1)) * cosf(6.283185307179586f * u2);
    }
};

}  // namespace hoprag
