// A LoRA linear layer (Hu et al., 2021) on top of a frozen base:
//   y = W x + scale * B (A (dropout(x))),   A [rank, in], B [out, rank], scale = alpha / rank,
// with explicit forward and backward (DESIGN rule 3): backward accumulates dA and dB only and
// writes dx for the layer below; the base weight gets no gradient. Dropout is inverted dropout
// from a Philox stream (hoprag/kernels/dropout.hpp), so backward re-derives the mask. A starts
// Kaiming-uniform (PEFT: kaiming_uniform_(a = sqrt(5)), bound 1 / sqrt(in)), B starts at zero, so
// a fresh adapter leaves the base model unchanged. `lora_merge` folds scale * B A into an f32 base
// for inference and `lora_unmerge` takes it out again.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "hoprag/backend/buffer.hpp"
#include "hoprag/backend/ops.hpp"
#include "hoprag/core/error.hpp"
#include "hoprag/core/rng.hpp"
#include "hoprag/nn/frozen_linear.hpp"

namespace hoprag::nn {

/// Trainable low-rank update of one linear layer.
template <class Context>
struct lora_linear {
    std::int64_t in = 0, out = 0, rank = 0;
    float scale = 1.0f;          // alpha / rank
    buffer<Context, float> a;    // [rank, in]
    buffer<Context, float> b;    // [out, rank]

    bool empty() const { return rank == 0; }
};

/// Gradients of a lora_linear (accumulated by lora_backward).
template <class Context>
struct lora_grads {
    buffer<Context, float> da;   // [rank, in]
    buffer<Context, float> db;   // [out, rank]
};

/// Training-time dropout of the adapter input: probability p in [0, 1) and the mask's stream.
struct lora_dropout {
    float p = 0.0f;
    philox_stream stream{};
};

/// What forward keeps for backward, for m rows.
template <class Context>
struct lora_saved {
    buffer<Context, float> xd;   // [m, in] dropped input (only when p > 0; else backward reads x)
    buffer<Context, float> u;    // [m, rank] = dropout(x) A^T
};

/// A fresh adapter: A ~ U(-1/sqrt(in), 1/sqrt(in)) from Philox stream (seed, stream), B = 0.
template <class Context>
lora_linear<Context> make_lora(Context& ctx, std::int64_t in, std::int64_t out, std::int64_t rank, float alpha, std::uint64_t seed,
                               std::uint64_t stream) {
    if (in <= 0 || out <= 0 || rank <= 0)
        throw config_error("lora: in, out and rank must be > 0, got " + std::to_string(in) + ", " + std::to_string(out) + ", " + std::to_string(rank));
    lora_linear<Context> l;
    l.in = in, l.out = out, l.rank = rank, l.scale = alpha / static_cast<float>(rank);
    const philox_stream s{seed, stream};
    const float bound = 1.0f / std::sqrt(static_cast<float>(in));
    std::vector<float> a(static_cast<std::size_t>(rank * in));
    for (std::size_t i = 0; i < a.size(); ++i) a[i] = bound * (2.0f * s.uniform(i) - 1.0f);
    l.a = buffer<Context, float>(ctx, a);
    l.b = buffer<Context, float>(ctx, std::vector<float>(static_cast<std::size_t>(out * rank), 0.0f));
    return l;
}

/// Zeroed gradients shaped like l.
template <class Context>
lora_grads<Context> make_lora_grads(Context& ctx, const lora_linear<Context>& l) {
    return {buffer<Context, float>(ctx, std::vector<float>(static_cast<std::size_t>(l.rank * l.in), 0.0f)),
            buffer<Context, float>(ctx, std::vector<float>(static_cast<std::size_t>(l.out * l.rank), 0.0f))};
}

/// y [m, out] += scale * B A dropout(x) for x [m, in], with caller-owned memory (no allocation):
/// u [m, rank] receives dropout(x) A^T and xd [m, in] the dropped input (read only when drop.p > 0,
/// may be nullptr otherwise); backward needs both.
template <class Context>
void lora_forward_to(Context& ctx, const lora_linear<Context>& l, float* y, const float* x, std::int64_t m, const lora_dropout& drop,
                     float* xd, float* u) {
    if (l.empty()) return;
    const float* xin = x;
    if (drop.p > 0.0f) {
        dropout(ctx, xd, x, m * l.in, drop.p, drop.stream);
        xin = xd;
    }
    gemm_desc d;  // u [m, r] = xin [m, in] A^T
    d.m = m, d.n = l.rank, d.k = l.in, d.trans_b = true;
    gemm(ctx, packed(d), xin, l.a.data(), u);
    gemm_desc e;  // y += scale * u B^T
    e.m = m, e.n = l.out, e.k = l.rank, e.trans_b = true, e.alpha = l.scale, e.beta = 1.0f;
    gemm(ctx, packed(e), u, l.b.data(), y);
}

/// y [m, out] += scale * B A dropout(x) for x [m, in]. With `saved`, keeps the dropped input and
/// u = dropout(x) A^T for backward (allocated here); without, uses a temporary.
template <class Context>
void lora_forward(Context& ctx, const lora_linear<Context>& l, float* y, const float* x, std::int64_t m, const lora_dropout& drop = {},
                  lora_saved<Context>* saved = nullptr) {
    if (l.empty()) return;
    lora_saved<Context> tmp;
    lora_saved<Context>& s = saved ? *saved : tmp;
    if (drop.p > 0.0f) s.xd = buffer<Context, float>(ctx, static_cast<std::size_t>(m * l.in));
    s.u = buffer<Context, float>(ctx, static_cast<std::size_t>(m * l.rank));
    lora_forward_to(ctx, l, y, x, m, drop, s.xd.data(), s.u.data());
}

/// Backward of lora_forward_to for dy [m, out], with caller-owned memory: xin is the adapter's
/// input as forward used it (xd when drop.p > 0, else x), u the saved [m, rank]; scratch du
/// [m, rank] and, when drop.p > 0 and dx is given, t [m, in]. dB += scale dy^T u,
/// dA += (scale dy B)^T xin, and dx [m, in] += dropout'(scale dy B A) when dx is non-null.
template <class Context>
void lora_backward_to(Context& ctx, const lora_linear<Context>& l, lora_grads<Context>& g, float* dx, const float* dy, const float* xin,
                      const float* u, std::int64_t m, const lora_dropout& drop, float* du, float* t) {
    if (l.empty()) return;
    gemm_desc db;  // dB [out, r] += scale * dy^T [out, m] u [m, r]
    db.m = l.out, db.n = l.rank, db.k = m, db.trans_a = true, db.alpha = l.scale, db.beta = 1.0f;
    gemm(ctx, packed(db), dy, u, g.db.data());
    gemm_desc dud;  // du [m, r] = scale * dy [m, out] B [out, r]
    dud.m = m, dud.n = l.rank, dud.k = l.out, dud.alpha = l.scale;
    gemm(ctx, packed(dud), dy, l.b.data(), du);
    gemm_desc da;  // dA [r, in] += du^T [r, m] xin [m, in]
    da.m = l.rank, da.n = l.in, da.k = m, da.trans_a = true, da.beta = 1.0f;
    gemm(ctx, packed(da), du, xin, g.da.data());
    if (dx == nullptr) return;
    if (drop.p > 0.0f) {
        gemm_desc dt;  // t [m, in] = du A
        dt.m = m, dt.n = l.in, dt.k = l.rank;
        gemm(ctx, packed(dt), du, l.a.data(), t);
        dropout(ctx, t, t, m * l.in, drop.p, drop.stream);
        add(ctx, dx, dx, t, m * l.in);
    } else {
        gemm_desc dt;  // dx += du A
        dt.m = m, dt.n = l.in, dt.k = l.rank, dt.beta = 1.0f;
        gemm(ctx, packed(dt), du, l.a.data(), dx);
    }
}

/// Backward of lora_forward for dy [m, out]: dB += scale dy^T u, dA += (scale dy B)^T dropout(x),
/// and, when dx is given, dx [m, in] += dropout'(scale dy B A) (accumulates onto the base's dx).
template <class Context>
void lora_backward(Context& ctx, const lora_linear<Context>& l, lora_grads<Context>& g, float* dx, const float* dy, const float* x,
                   std::int64_t m, const lora_dropout& drop, const lora_saved<Context>& saved) {
    if (l.empty()) return;
    buffer<Context, float> du(ctx, static_cast<std::size_t>(m * l.rank)), t;
    if (drop.p > 0.0f && dx) t = buffer<Context, float>(ctx, static_cast<std::size_t>(m * l.in));
    lora_backward_to(ctx, l, g, dx, dy, drop.p > 0.0f ? saved.xd.data() : x, saved.u.data(), m, drop, du.data(), t.data());
}

/// A base linear with an optional adapter: y [m, out] = x W^T + scale B A dropout(x).
template <class Context>
void adapted_forward(Context& ctx, const frozen_linear<Context>& w, const lora_linear<Context>* l, float* y, const float* x, std::int64_t m,
                     float beta = 0.0f, const lora_dropout& drop = {}, lora_saved<Context>* saved = nullptr) {
    frozen_forward(ctx, w, y, x, m, beta);
    if (l) lora_forward(ctx, *l, y, x, m, drop, saved);
}

/// Backward of adapted_forward: writes dx [m, in] (if non-null) = dy W + adapter part; accumulates g.
template <class Context>
void adapted_backward(Context& ctx, const frozen_linear<Context>& w, const lora_linear<Context>* l, lora_grads<Context>* g, float* dx,
                      const float* dy, const float* x, std::int64_t m, const lora_dropout& drop = {}, const lora_saved<Context>* saved = nullptr) {
    if (dx) frozen_backward(ctx, w, dx, dy, m);
    if (l && !l->empty()) {
        if (!g || !saved) throw config_error("adapted_backward: an adapter needs its gradients and the saved forward state");
        lora_backward(ctx, *l, *g, dx, dy, x, m, drop, *saved);
    }
}

namespace detail {
template <class Context>
void lora_fold(Context& ctx, frozen_linear<Context>& w, const lora_linear<Context>& l, float sign) {
    if (w.quantized())
        throw config_error("lora merge: the base weight is NF4; merging would re-quantise it. Keep the adapter unmerged, or load the base with quant::none");
    if (w.out != l.out || w.in != l.in)
        throw shape_error("lora merge: adapter [" + std::to_string(l.out) + ", " + std::to_string(l.in) + "] does not fit base [" +
                          std::to_string(w.out) + ", " + std::to_string(w.in) + "]");
    gemm_desc d;  // W [out, in] += sign * scale * B [out, r] A [r, in]
    d.m = l.out, d.n = l.in, d.k = l.rank, d.alpha = sign * l.scale, d.beta = 1.0f;
    gemm(ctx, packed(d), l.b.data(), l.a.data(), w.dense.data());
}
}  // namespace detail

/// W += scale * B A (f32 base only): afterwards frozen_forward alone equals adapted_forward.
template <class Context>
void lora_merge(Context& ctx, frozen_linear<Context>& w, const lora_linear<Context>& l) {
    if (!l.empty()) detail::lora_fold(ctx, w, l, 1.0f);
}

/// W -= scale * B A: undoes lora_merge (up to f32 rounding).
template <class Context>
void lora_unmerge(Context& ctx, frozen_linear<Context>& w, const lora_linear<Context>& l) {
    if (!l.empty()) detail::lora_fold(ctx, w, l, -1.0f);
}

}  // namespace hoprag::nn
