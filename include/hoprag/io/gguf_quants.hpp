// ggml tensor types and quantisation blocks as stored in GGUF files. `ggml_type` lists every type id
// with its block size (elements) and type size (bytes per block); the blocks hoprag dequantises —
// Q4_0, Q4_1, Q8_0 (32 elements) and Q4_K, Q6_K (256-element super-blocks) — are plain structs
// whose sizes are static_assert-ed against the format, with one `HOPRAG_HOST_DEVICE` dequantiser per
// block shared by the CPU loop and CUDA kernels (DESIGN rule 2). Results equal ggml's reference
// dequantisers bit for bit, with the same operation order. Every product that is followed by an
// addition (Q4_1's d*q + m, Q4_K's (d*sc)*q - dmin*m) is exact in float32 — an f16 scale has 11
// significant bits, times a 6-bit scale and a 4-bit quant stays within 24 — so a compiler that
// fuses it into an FMA (nvcc does by default) cannot change the result.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "hoprag/core/config.hpp"
#include "hoprag/core/dtype.hpp"

namespace hoprag::io {

/// ggml tensor type ids (the values stored in GGUF tensor infos).
enum class ggml_type : std::uint32_t {
    f32 = 0, f16 = 1, q4_0 = 2, q4_1 = 3, q5_0 = 6, q5_1 = 7, q8_0 = 8, q8_1 = 9,
    q2_k = 10, q3_k = 11, q4_k = 12, q5_k = 13, q6_k = 14, q8_k = 15,
    iq2_xxs = 16, iq2_xs = 17, iq3_xxs = 18, iq1_s = 19, iq4_nl = 20, iq3_s = 21, iq2_s = 22, iq4_xs = 23,
    i8 = 24, i16 = 25, i32 = 26, i64 = 27, f64 = 28, iq1_m = 29, bf16 = 30, tq1_0 = 34, tq2_0 = 35,
};

/// Block size (elements) and type size (bytes per block) of one ggml type.
struct ggml_type_traits {
    ggml_type type;
    std::string_view name;
    std::uint32_t block_size;
    std::uint32_t type_size;
    bool dequantizable;  // hoprag can convert it to float
};

inline constexpr ggml_type_traits ggml_type_table[] = {
    {ggml_type::f32, "F32", 1, 4, true},          {ggml_type::f16, "F16", 1, 2, true},
    {ggml_type::q4_0, "Q4_0", 32, 18, true},      {ggml_type::q4_1, "Q4_1", 32, 20, true},
    {ggml_type::q5_0, "Q5_0", 32, 22, false},     {ggml_type::q5_1, "Q5_1", 32, 24, false},
    {ggml_type::q8_0, "Q8_0", 32, 34, true},      {ggml_type::q8_1, "Q8_1", 32, 40, false},
    {ggml_type::q2_k, "Q2_K", 256, 84, false},    {ggml_type::q3_k, "Q3_K", 256, 110, false},
    {ggml_type::q4_k, "Q4_K", 256, 144, true},    {ggml_type::q5_k, "Q5_K", 256, 176, false},
    {ggml_type::q6_k, "Q6_K", 256, 210, true},    {ggml_type::q8_k, "Q8_K", 256, 292, false},
    {ggml_type::iq2_xxs, "IQ2_XXS", 256, 66, false}, {ggml_type::iq2_xs, "IQ2_XS", 256, 74, false},
    {ggml_type::iq3_xxs, "IQ3_XXS", 256, 98, false}, {ggml_type::iq1_s, "IQ1_S", 256, 50, false},
    {ggml_type::iq4_nl, "IQ4_NL", 32, 18, false}, {ggml_type::iq3_s, "IQ3_S", 256, 110, false},
    {ggml_type::iq2_s, "IQ2_S", 256, 82, false},  {ggml_type::iq4_xs, "IQ4_XS", 256, 136, false},
    {ggml_type::i8, "I8", 1, 1, true},            {ggml_type::i16, "I16", 1, 2, true},
    {ggml_type::i32, "I32", 1, 4, true},          {ggml_type::i64, "I64", 1, 8, true},
    {ggml_type::f64, "F64", 1, 8, true},          {ggml_type::iq1_m, "IQ1_M", 256, 56, false},
    {ggml_type::bf16, "BF16", 1, 2, true},        {ggml_type::tq1_0, "TQ1_0", 256, 54, false},
    {ggml_type::tq2_0, "TQ2_0", 256, 66, false},
};

/// Traits of type id `id`, or nullopt for an id this table does not know.
constexpr std::optional<ggml_type_traits> ggml_traits(std::uint32_t id) {
    for (const auto& t : ggml_type_table)
        if (static_cast<std::uint32_t>(t.type) == id) return t;
    return std::nullopt;
}
/// Traits of a known type.
constexpr ggml_type_traits ggml_traits(ggml_type t) { return *ggml_traits(static_cast<std::uint32_t>(t)); }
/// "Q4_1", "F32", ...
constexpr std::string_view ggml_type_name(ggml_type t) { return ggml_traits(t).name; }

/// Elements per K-quant super-block.
inline constexpr int qk_k = 256;

/// Q4_0: 32 weights x = d * (q - 8), q in 0..15; low nibbles are elements 0..15, high 16..31.
struct block_q4_0 {
    f16 d;                  // scale
    std::uint8_t qs[16];    // [32] 4-bit quants, two per byte
};
/// Q4_1: 32 weights x = d * q + m, q in 0..15; nibble order as Q4_0.
struct block_q4_1 {
    f16 d;                  // scale
    f16 m;                  // minimum
    std::uint8_t qs[16];    // [32] 4-bit quants
};
/// Q8_0: 32 weights x = d * q, q in -128..127.
struct block_q8_0 {
    f16 d;                  // scale
    std::int8_t qs[32];     // [32] 8-bit quants
};
/// Q4_K: 256 weights in 8 sub-blocks of 32; sub-block j has 6-bit scale sc_j and min m_j packed in
/// `scales`, and x = (d * sc_j) * q - (dmin * m_j). Each 32 bytes of qs hold two sub-blocks
/// (low nibbles first).
struct block_q4_k {
    f16 d;                   // super-block scale of the scales
    f16 dmin;                // super-block scale of the mins
    std::uint8_t scales[12]; // [8] 6-bit scales and [8] 6-bit mins, packed
    std::uint8_t qs[128];    // [256] 4-bit quants
};
/// Q6_K: 256 weights in 16 sub-blocks of 16, x = (d * scale_j) * (q - 32), q 6 bits: low 4 bits in
/// ql, high 2 bits in qh.
struct block_q6_k {
    std::uint8_t ql[128];    // [256] low 4 bits
    std::uint8_t qh[64];     // [256] high 2 bits
    std::int8_t scales[16];  // [16] 8-bit sub-block scales
    f16 d;                   // super-block scale
};

static_assert(sizeof(block_q4_0) == 18, "block_q4_0 must be 18 bytes (ggml layout)");
static_assert(sizeof(block_q4_1) == 20, "block_q4_1 must be 20 bytes (ggml layout)");
static_assert(sizeof(block_q8_0) == 34, "block_q8_0 must be 34 bytes (ggml layout)");
static_assert(sizeof(block_q4_k) == 144, "block_q4_k must be 144 bytes (ggml layout)");
static_assert(sizeof(block_q6_k) == 210, "block_q6_k must be 210 bytes (ggml layout)");

/// y[0..32) from one Q4_0 block.
HOPRAG_INLINE void dequantize_block(const block_q4_0& b, float* y) {
    const float d = b.d.to_float();
    for (int j = 0; j < 16; ++j) {
        y[j] = d * static_cast<float>((b.qs[j] & 0x0f) - 8);
        y[j + 16] = d * static_cast<float>((b.qs[j] >> 4) - 8);
    }
}

/// y[0..32) from one Q4_1 block.
HOPRAG_INLINE void dequantize_block(const block_q4_1& b, float* y) {
    const float d = b.d.to_float(), m = b.m.to_float();
    for (int j = 0; j < 16; ++j) {
        y[j] = d * static_cast<float>(b.qs[j] & 0x0f) + m;
        y[j + 16] = d * static_cast<float>(b.qs[j] >> 4) + m;
    }
}

/// y[0..32) from one Q8_0 block.
HOPRAG_INLINE void dequantize_block(const block_q8_0& b, float* y) {
    const float d = b.d.to_float();
    for (int j = 0; j < 32; ++j) y[j] = d * static_cast<float>(b.qs[j]);
}

/// 6-bit scale and min of sub-block j (0..7) of a Q4_K block.
HOPRAG_INLINE void q4_k_scale_min(const std::uint8_t* s, int j, std::uint8_t& sc, std::uint8_t& m) {
    if (j < 4) {
        sc = s[j] & 63;
        m = s[j + 4] & 63;
    } else {
        sc = static_cast<std::uint8_t>((s[j + 4] & 0x0f) | ((s[j - 4] >> 6) << 4));
        m = static_cast<std::uint8_t>((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
    }
}

/// y[0..256) from one Q4_K block.
HOPRAG_INLINE void dequantize_block(const block_q4_k& b, float* y) {
    const float d = b.d.to_float(), dmin = b.dmin.to_float();
    for (int c = 0; c < 4; ++c) {  // 32 bytes of qs -> sub-blocks 2c (low nibbles) and 2c+1 (high)
        std::uint8_t sc0, m0, sc1, m1;
        q4_k_scale_min(b.scales, 2 * c, sc0, m0);
        q4_k_scale_min(b.scales, 2 * c + 1, sc1, m1);
        const float d0 = d * static_cast<float>(sc0), min0 = dmin * static_cast<float>(m0);
        const float d1 = d * static_cast<float>(sc1), min1 = dmin * static_cast<float>(m1);
        const std::uint8_t* q = b.qs + 32 * c;
        for (int l = 0; l < 32; ++l) {
            y[64 * c + l] = d0 * static_cast<float>(q[l] & 0x0f) - min0;
            y[64 * c + 32 + l] = d1 * static_cast<float>(q[l] >> 4) - min1;
        }
    }
}

/// y[0..256) from one Q6_K block.
HOPRAG_INLINE void dequantize_block(const block_q6_k& b, float* y) {
    const float d = b.d.to_float();
    for (int h = 0; h < 2; ++h) {  // two halves of 128 weights
        const std::uint8_t* ql = b.ql + 64 * h;
        const std::uint8_t* qh = b.qh + 32 * h;
        const std::int8_t* sc = b.scales + 8 * h;
        float* out = y + 128 * h;
        for (int l = 0; l < 32; ++l) {
            const int is = l / 16;
            const int q1 = ((ql[l] & 0x0f) | (((qh[l] >> 0) & 3) << 4)) - 32;
            const int q2 = ((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32;
            const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
            const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
            out[l] = (d * static_cast<float>(sc[is + 0])) * static_cast<float>(q1);
            out[l + 32] = (d * static_cast<float>(sc[is + 2])) * static_cast<float>(q2);
            out[l + 64] = (d * static_cast<float>(sc[is + 4])) * static_cast<float>(q3);
            out[l + 96] = (d * static_cast<float>(sc[is + 6])) * static_cast<float>(q4);
        }
    }
}

}  // namespace hoprag::io
