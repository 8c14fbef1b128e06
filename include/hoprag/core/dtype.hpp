// Element types: f32, bf16 and f16 storage types with exact round-to-nearest-even conversions that
// compile for host and device alike (plain bit manipulation, no intrinsics), plus the runtime
// `dtype` tag used by file formats and GEMM dispatch. bf16/f16 are storage types: arithmetic is
// done in float after `to_float`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "hoprag/core/config.hpp"

namespace hoprag {

/// Runtime element-type tag.
enum class dtype : std::uint8_t { f32, bf16, f16, i32, i64, u8 };

/// Bytes per element of `t`.
constexpr std::size_t dtype_size(dtype t) {
    switch (t) {
        case dtype::f32: return 4;
        case dtype::bf16: return 2;
        case dtype::f16: return 2;
        case dtype::i32: return 4;
        case dtype::i64: return 8;
        case dtype::u8: return 1;
    }
    return 0;
}

/// Lower-case name of `t` ("f32", "bf16", ...).
constexpr std::string_view dtype_name(dtype t) {
    switch (t) {
        case dtype::f32: return "f32";
        case dtype::bf16: return "bf16";
        case dtype::f16: return "f16";
        case dtype::i32: return "i32";
        case dtype::i64: return "i64";
        case dtype::u8: return "u8";
    }
    return "?";
}

/// Bit pattern of a float (and back), usable in host and device code.
HOPRAG_INLINE std::uint32_t float_bits(float f) {
#if defined(__CUDA_ARCH__)
    return __float_as_uint(f);
#else
    std::uint32_t u;
    std::memcpy(&u, &f, sizeof u);
    return u;
#endif
}

HOPRAG_INLINE float bits_float(std::uint32_t u) {
#if defined(__CUDA_ARCH__)
    return __uint_as_float(u);
#else
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
#endif
}

/// bfloat16: the top 16 bits of an IEEE float32. Conversion from float rounds to nearest even;
/// NaN stays NaN (quiet bit set), infinities and signed zero are kept.
struct bf16 {
    std::uint16_t bits = 0;

    HOPRAG_INLINE static bf16 from_bits(std::uint16_t b) {
        bf16 r;
        r.bits = b;
        return r;
    }
    HOPRAG_INLINE static bf16 from_float(float f) {
        const std::uint32_t u = float_bits(f);
        if ((u & 0x7fffffffu) > 0x7f800000u) return from_bits(static_cast<std::uint16_t>((u >> 16) | 0x40u));
        const std::uint32_t rounding = 0x7fffu + ((u >> 16) & 1u);
        return from_bits(static_cast<std::uint16_t>((u + rounding) >> 16));
    }
    HOPRAG_INLINE float to_float() const { return bits_float(static_cast<std::uint32_t>(bits) << 16); }
};

/// IEEE binary16. Conversion from float rounds to nearest even, including into the subnormal
/// range; overflow gives infinity; NaN stays NaN.
struct f16 {
    std::uint16_t bits = 0;

    HOPRAG_INLINE static f16 from_bits(std::uint16_t b) {
        f16 r;
        r.bits = b;
        return r;
    }
    HOPRAG_INLINE static f16 from_float(float f) {
        const std::uint32_t u = float_bits(f);
        const std::uint16_t sign = static_cast<std::uint16_t>((u >> 16) & 0x8000u);
        const std::uint32_t a = u & 0x7fffffffu;
        if (a > 0x7f800000u) return from_bits(sign | 0x7e00u);              // NaN
        if (a >= 0x477ff000u) return from_bits(sign | 0x7c00u);             // rounds to >= 65520: inf
        if (a < 0x38800000u) {                                              // below 2^-14: subnormal or zero
            if (a < 0x33000000u) return from_bits(sign);                    // below 2^-25: rounds to zero
            // value = mant * 2^(e-150) and a half subnormal is h * 2^-24, so h = mant >> (126 - e)
            const std::uint32_t mant = (a & 0x7fffffu) | 0x800000u;
            const std::uint32_t shift = 126u - (a >> 23);                   // 14..24
            const std::uint32_t rem = mant & ((1u << shift) - 1u);
            const std::uint32_t halfway = 1u << (shift - 1u);
            std::uint32_t r = mant >> shift;
            if (rem > halfway || (rem == halfway && (r & 1u))) ++r;
            return from_bits(static_cast<std::uint16_t>(sign | r));
        }
        // normal: rebias exponent 127 -> 15 and round the 13 dropped mantissa bits to nearest even
        std::uint32_t r = a - 0x38000000u;
        r += 0xfffu + ((r >> 13) & 1u);
        return from_bits(static_cast<std::uint16_t>(sign | (r >> 13)));
    }
    HOPRAG_INLINE float to_float() const {
        const std::uint32_t sign = static_cast<std::uint32_t>(bits & 0x8000u) << 16;
        const std::uint32_t exp = (bits >> 10) & 0x1fu;
        const std::uint32_t mant = bits & 0x3ffu;
        if (exp == 0x1f) return bits_float(sign | 0x7f800000u | (mant << 13));
        if (exp == 0) {
            if (mant == 0) return bits_float(sign);
            // subnormal: value = mant * 2^-24, exact in float
            const float v = static_cast<float>(mant) * 5.9604644775390625e-8f;
            return sign ? -v : v;
        }
        return bits_float(sign | ((exp + 112u) << 23) | (mant << 13));
    }
};

static_assert(sizeof(bf16) == 2 && sizeof(f16) == 2, "storage types must be two bytes");

/// Convert any supported element to float.
HOPRAG_INLINE float to_float(float x) { return x; }
HOPRAG_INLINE float to_float(bf16 x) { return x.to_float(); }
HOPRAG_INLINE float to_float(f16 x) { return x.to_float(); }

/// Convert float to element type T with round-to-nearest-even.
template <class T>
HOPRAG_INLINE T from_float(float x) {
    if constexpr (sizeof(T) == 4) {
        return x;
    } else {
        return T::from_float(x);
    }
}

/// Compile-time dtype tag of a storage type.
template <class T> struct dtype_of;
template <> struct dtype_of<float> { static constexpr dtype value = dtype::f32; };
template <> struct dtype_of<bf16> { static constexpr dtype value = dtype::bf16; };
template <> struct dtype_of<f16> { static constexpr dtype value = dtype::f16; };
template <> struct dtype_of<std::int32_t> { static constexpr dtype value = dtype::i32; };
template <> struct dtype_of<std::int64_t> { static constexpr dtype value = dtype::i64; };
template <> struct dtype_of<std::uint8_t> { static constexpr dtype value = dtype::u8; };
template <class T> inline constexpr dtype dtype_of_v = dtype_of<T>::value;

}  // namespace hoprag
