// A double-quantised NF4 matrix in backend memory: `nf4_weight<Context>` owns the codes, int8
// absmax and second-level scales as `buffer`s of any backend and hands out a `quant::nf4_view` for
// the backend's dequantise-GEMM (`nf4_gemm` / `nf4_gemm_t`, found by argument-dependent lookup on
// the context). Built from a host `nf4_tensor` (quantise on the host once at load, then upload).
#pragma once

#include <cstdint>

#include "hoprag/backend/buffer.hpp"
#include "hoprag/quant/nf4.hpp"

namespace hoprag::quant {

template <class Context>
struct nf4_weight {
    std::int64_t rows = 0, cols = 0;
    buffer<Context, std::uint8_t> codes;   // [rows * cols / 2]
    buffer<Context, std::int8_t> qabsmax;  // [rows * cols / 64]
    buffer<Context, float> scale2;         // [ceil(rows * cols / 64 / 256)]
    float offset = 0.0f;

    nf4_weight() = default;
    /// Uploads host tensor t.
    nf4_weight(Context& ctx, const nf4_tensor& t)
        : rows(t.rows), cols(t.cols), codes(ctx, t.codes), qabsmax(ctx, t.qabsmax), scale2(ctx, t.scale2), offset(t.offset) {}

    bool empty() const { return rows * cols == 0; }
    nf4_view view() const { return {rows, cols, codes.data(), qabsmax.data(), scale2.data(), offset}; }
    /// Bytes held in backend memory.
    std::size_t storage_bytes() const { return codes.bytes() + qabsmax.bytes() + scale2.bytes() + sizeof(float); }
};

}  // namespace hoprag::quant
