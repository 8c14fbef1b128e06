// QLoRA NormalFloat4 (NF4) weights with double quantisation (Dettmers et al., "QLoRA", 2023).
// Layout of an `nf4_tensor` of numel elements (numel a multiple of 64):
//   codes    [numel / 2] bytes: two 4-bit indices into nf4_code per byte, element 2i in the high
//            nibble, 2i+1 in the low nibble (as bitsandbytes packs them);
//   qabsmax  [numel / 64] int8: the absmax of each 64-element block, double-quantised:
//            absmax = offset + qabsmax / 127 * scale2[block / 256];
//   scale2   [ceil(numel / 64 / 256)] f32: max |absmax - offset| of each group of 256 blocks;
//   offset   f32: mean of all block absmax values (bitsandbytes subtracts it too).
// Our choice for the second level: a LINEAR symmetric int8 code (bitsandbytes uses its 8-bit
// "dynamic" tree code); it keeps the decode a multiply-add on both backends. Storage is
// 4 + 8/64 + 32/(64*256) = 4.127 bits per parameter. Block (de)quantisation is HOPRAG_HOST_DEVICE (nf4_quantize runs its
// blocks in parallel with OpenMP when compiled with it; the result does not depend on the threads),
// so the CPU loop and a CUDA kernel share the arithmetic (DESIGN rule 2).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "hoprag/core/config.hpp"
#include "hoprag/core/error.hpp"

namespace hoprag::quant {

inline constexpr std::int64_t nf4_block = 64;         // elements per absmax
inline constexpr std::int64_t nf4_absmax_block = 256; // absmax values per second-level scale

/// The 16 NF4 values: N(0,1) quantiles normalised to [-1, 1] with an exact zero (bitsandbytes'
/// create_normal_map(0.9677083), 8 positive and 7 negative levels plus 0), ascending.
HOPRAG_INLINE float nf4_code(int i) {
    constexpr float table[16] = {-1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
                                 -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
                                 0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
                                 0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f};
    return table[i & 15];
}

/// Index of the code value nearest to v (v in [-1, 1]; ties go to the lower index). Branch-free
/// and vectorisable: the number of decision thresholds at or below v. Threshold j is the smallest
/// float whose nearest code (by float |v - code|, ties lower) is j + 1 rather than j — the midpoint
/// of codes j and j + 1 up to an ulp of rounding, found by scanning the floats around each midpoint;
/// tests/quant/test_nf4.cpp checks the equality with the direct search there.
HOPRAG_INLINE std::uint8_t nf4_encode(float v) {
    constexpr float threshold[15] = {-8.480963707e-01f, -6.106328964e-01f, -4.599952400e-01f, -3.396794200e-01f, -2.346073985e-01f,
                                 -1.379117221e-01f, -4.552501440e-02f, 3.979015350e-02f,   1.202552542e-01f,  2.035212666e-01f,
                                 2.920137942e-01f,  3.893125653e-01f,  5.016634464e-01f,   6.427869797e-01f,  8.614784479e-01f};
    int i = 0;
    for (int j = 0; j < 15; ++j) i += v >= threshold[j] ? 1 : 0;
    return static_cast<std::uint8_t>(i);
}

/// absmax of x[0, nf4_block).
HOPRAG_INLINE float nf4_block_absmax(const float* x) {
    float m = 0.0f;
    for (int i = 0; i < nf4_block; ++i) m = fmaxf(m, fabsf(x[i]));
    return m;
}

/// Packs x[0, nf4_block) as codes of x / absmax into codes[0, nf4_block / 2).
HOPRAG_INLINE void nf4_quantize_block(const float* x, float absmax, std::uint8_t* codes) {
    const float inv = absmax > 0.0f ? 1.0f / absmax : 0.0f;
    for (int i = 0; i < nf4_block / 2; ++i)
        codes[i] = static_cast<std::uint8_t>((nf4_encode(x[2 * i] * inv) << 4) | nf4_encode(x[2 * i + 1] * inv));
}

/// Decoded absmax of block b from the double-quantised values.
HOPRAG_INLINE float nf4_absmax(const std::int8_t* qabsmax, const float* scale2, float offset, std::int64_t b) {
    return offset + mul_rn(static_cast<float>(qabsmax[b]) * (1.0f / 127.0f), scale2[b / nf4_absmax_block]);  // no FMA on the device
}

/// out[0, nf4_block) = code * absmax for block `codes`.
HOPRAG_INLINE void nf4_dequantize_block(const std::uint8_t* codes, float absmax, float* out) {
    for (int i = 0; i < nf4_block / 2; ++i) {
        out[2 * i] = nf4_code(codes[i] >> 4) * absmax;
        out[2 * i + 1] = nf4_code(codes[i] & 15) * absmax;
    }
}

/// A double-quantised NF4 matrix [rows, cols] in host memory (see the layout above).
struct nf4_tensor {
    std::int64_t rows = 0, cols = 0;
    std::vector<std::uint8_t> codes;   // [rows * cols / 2]
    std::vector<std::int8_t> qabsmax;  // [rows * cols / 64]
    std::vector<float> scale2;         // [ceil(rows * cols / 64 / 256)]
    float offset = 0.0f;

    std::int64_t numel() const { return rows * cols; }
    /// Bytes of storage (codes, absmax, scales, offset).
    std::size_t storage_bytes() const { return codes.size() + qabsmax.size() + scale2.size() * 4 + 4; }
    double bits_per_parameter() const { return numel() ? 8.0 * double(storage_bytes()) / double(numel()) : 0.0; }
};

/// Quantises x [rows, cols] (rows * cols a multiple of 64) to double-quantised NF4.
inline nf4_tensor nf4_quantize(std::span<const float> x, std::int64_t rows, std::int64_t cols) {
    if (rows < 0 || cols < 0 || static_cast<std::int64_t>(x.size()) != rows * cols)
        throw shape_error("nf4_quantize: " + std::to_string(x.size()) + " values for a [" + std::to_string(rows) + ", " + std::to_string(cols) + "] matrix");
    if ((rows * cols) % nf4_block != 0)
        throw shape_error("nf4_quantize: element count " + std::to_string(rows * cols) + " is not a multiple of the block size 64");
    nf4_tensor t;
    t.rows = rows, t.cols = cols;
    const std::int64_t blocks = rows * cols / nf4_block, groups = (blocks + nf4_absmax_block - 1) / nf4_absmax_block;
    std::vector<float> absmax(static_cast<std::size_t>(blocks));
    double mean = 0.0;
#ifdef _OPENMP
#pragma omp parallel for schedule(static)
#endif
    for (std::int64_t b = 0; b < blocks; ++b) absmax[b] = nf4_block_absmax(x.data() + b * nf4_block);
    for (std::int64_t b = 0; b < blocks; ++b) mean += absmax[b];  // serial: the offset does not depend on the thread count
    t.offset = blocks ? static_cast<float>(mean / double(blocks)) : 0.0f;
    t.scale2.assign(static_cast<std::size_t>(groups), 0.0f);
#ifdef _OPENMP
#pragma omp parallel for schedule(static)
#endif
    for (std::int64_t g = 0; g < groups; ++g)
        for (std::int64_t b = g * nf4_absmax_block; b < std::min(blocks, (g + 1) * nf4_absmax_block); ++b)
            t.scale2[g] = std::fmax(t.scale2[g], std::fabs(absmax[b] - t.offset));
    t.qabsmax.resize(static_cast<std::size_t>(blocks));
    t.codes.resize(static_cast<std::size_t>(rows * cols / 2));
#ifdef _OPENMP
#pragma omp parallel for schedule(static)
#endif
    for (std::int64_t b = 0; b < blocks; ++b) {
        const float s = t.scale2[b / nf4_absmax_block];
        const float q = s > 0.0f ? std::nearbyint((absmax[b] - t.offset) / s * 127.0f) : 0.0f;
        t.qabsmax[b] = static_cast<std::int8_t>(std::fmax(-127.0f, std::fmin(127.0f, q)));
        // quantise the block against the absmax the decoder will see, so codes use its full range
        const float am = nf4_absmax(t.qabsmax.data(), t.scale2.data(), t.offset, b);
        nf4_quantize_block(x.data() + b * nf4_block, am, t.codes.data() + b * nf4_block / 2);
    }
    return t;
}

/// A non-owning view of a double-quantised NF4 matrix [rows, cols] in any backend's memory (host
/// pointers for cpu, device pointers for cuda); the layout is the one described at the top.
struct nf4_view {
    std::int64_t rows = 0, cols = 0;
    const std::uint8_t* codes = nullptr;   // [rows * cols / 2]
    const std::int8_t* qabsmax = nullptr;  // [rows * cols / 64]
    const float* scale2 = nullptr;         // [ceil(rows * cols / 64 / 256)]
    float offset = 0.0f;
};

/// The view of a host tensor (valid while t lives and is not resized).
inline nf4_view view(const nf4_tensor& t) { return {t.rows, t.cols, t.codes.data(), t.qabsmax.data(), t.scale2.data(), t.offset}; }

/// Element e of the matrix behind `w` (decoded alone: used by the CUDA tile kernel and the tails).
HOPRAG_INLINE float nf4_element(const nf4_view& w, std::int64_t e) {
    const std::uint8_t byte = w.codes[e / 2];
    const float am = nf4_absmax(w.qabsmax, w.scale2, w.offset, e / nf4_block);
    return nf4_code((e & 1) ? (byte & 15) : (byte >> 4)) * am;
}

/// Dequantises rows [row0, row0 + count) of host view w into out [count, cols] (f32).
inline void nf4_dequantize_rows(const nf4_view& w, std::int64_t row0, std::int64_t count, float* out) {
    if (row0 < 0 || count < 0 || row0 + count > w.rows)
        throw shape_error("nf4_dequantize_rows: rows [" + std::to_string(row0) + ", " + std::to_string(row0 + count) + ") outside " + std::to_string(w.rows));
    const std::int64_t e0 = row0 * w.cols, e1 = (row0 + count) * w.cols;
    if (e0 % nf4_block == 0 && e1 % nf4_block == 0) {  // whole blocks: decode in place
        for (std::int64_t b = e0 / nf4_block; b < e1 / nf4_block; ++b)
            nf4_dequantize_block(w.codes + b * nf4_block / 2, nf4_absmax(w.qabsmax, w.scale2, w.offset, b), out + (b * nf4_block - e0));
        return;
    }
    // blocks may straddle rows when cols % 64 != 0: decode whole blocks and copy the part wanted
    float tmp[nf4_block];
    for (std::int64_t b = e0 / nf4_block; b * nf4_block < e1; ++b) {
        nf4_dequantize_block(w.codes + b * nf4_block / 2, nf4_absmax(w.qabsmax, w.scale2, w.offset, b), tmp);
        for (std::int64_t i = 0; i < nf4_block; ++i) {
            const std::int64_t e = b * nf4_block + i;
            if (e >= e0 && e < e1) out[e - e0] = tmp[i];
        }
    }
}

/// Dequantises rows [row0, row0 + count) of t into out [count, cols] (f32).
inline void nf4_dequantize_rows(const nf4_tensor& t, std::int64_t row0, std::int64_t count, float* out) {
    nf4_dequantize_rows(view(t), row0, count, out);
}

/// The whole matrix as f32 [rows, cols].
inline std::vector<float> nf4_dequantize(const nf4_tensor& t) {
    std::vector<float> out(static_cast<std::size_t>(t.numel()));
    nf4_dequantize_rows(t, 0, t.rows, out.data());
    return out;
}

/// Quantisation policy: base weights stored as double-quantised NF4.
struct nf4 {
    static constexpr const char* name = "nf4";
    static constexpr double bits_per_parameter = 4.0 + 8.0 / 64.0 + 32.0 / (64.0 * 256.0);
    static constexpr bool quantizes = true;  // linears quantised to NF4 at load
};

}  // namespace hoprag::quant
