// A frozen base linear layer y = x W^T with W [out, in] either f32 (`dense`) or double-quantised
// NF4 (`nf4`), in backend memory. Forward and the input gradient dx = dy W go through the backend's
// GEMM or its dequantise-GEMM (nf4_gemm / nf4_gemm_t, found by argument-dependent lookup) with the
// products in the layer's compute type (f32, or bf16 / f16 with f32 accumulation: the profile's
// mixed precision); W's own gradient is never formed. This is the one place the decoder dispatches
// on the weight type.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "hoprag/backend/buffer.hpp"
#include "hoprag/backend/compute_gemm.hpp"
#include "hoprag/backend/ops.hpp"
#include "hoprag/core/dtype.hpp"
#include "hoprag/core/error.hpp"
#include "hoprag/quant/nf4.hpp"
#include "hoprag/quant/nf4_weight.hpp"

namespace hoprag::nn {

template <class Context>
struct frozen_linear {
    std::int64_t in = 0, out = 0;
    buffer<Context, float> dense;     // [out, in] when f32; empty when NF4
    quant::nf4_weight<Context> nf4;   // [out, in] when NF4; empty when f32
    dtype compute = dtype::f32;       // type of the GEMM inputs (f32 accumulation either way)

    bool quantized() const { return !nf4.empty(); }
    /// Bytes of backend memory the weight takes.
    std::size_t storage_bytes() const { return quantized() ? nf4.storage_bytes() : dense.bytes(); }
};

/// An f32 frozen linear from host W [out, in].
template <class Context>
frozen_linear<Context> make_dense(Context& ctx, std::span<const float> w, std::int64_t out, std::int64_t in) {
    if (static_cast<std::int64_t>(w.size()) != out * in)
        throw shape_error("frozen linear: " + std::to_string(w.size()) + " values for [" + std::to_string(out) + ", " + std::to_string(in) + "]");
    frozen_linear<Context> l;
    l.in = in, l.out = out;
    l.dense = buffer<Context, float>(ctx, w);
    return l;
}

/// An NF4 frozen linear: host W [out, in] quantised on the host (out * in a multiple of 64), then uploaded.
template <class Context>
frozen_linear<Context> make_nf4(Context& ctx, std::span<const float> w, std::int64_t out, std::int64_t in) {
    frozen_linear<Context> l;
    l.in = in, l.out = out;
    l.nf4 = quant::nf4_weight<Context>(ctx, quant::nf4_quantize(w, out, in));
    return l;
}

/// y [m, out] = x [m, in] W^T + beta * y.
template <class Context>
void frozen_forward(Context& ctx, const frozen_linear<Context>& w, float* y, const float* x, std::int64_t m, float beta = 0.0f) {
    if (w.quantized()) return nf4_gemm(ctx, y, x, w.nf4.view(), m, beta, w.compute);
    gemm_desc d;
    d.m = m, d.n = w.out, d.k = w.in, d.trans_b = true, d.beta = beta;
    compute_gemm(ctx, d, x, w.dense.data(), y, w.compute);
}

/// dx [m, in] = dy [m, out] W + beta * dx.
template <class Context>
void frozen_backward(Context& ctx, const frozen_linear<Context>& w, float* dx, const float* dy, std::int64_t m, float beta = 0.0f) {
    if (w.quantized()) return nf4_gemm_t(ctx, dx, dy, w.nf4.view(), m, beta, w.compute);
    gemm_desc d;
    d.m = m, d.n = w.in, d.k = w.out, d.beta = beta;
    compute_gemm(ctx, d, dy, w.dense.data(), dx, w.compute);
}

}  // namespace hoprag::nn
