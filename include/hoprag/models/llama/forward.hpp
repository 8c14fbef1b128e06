// Llama-family decoder forward for inference on any backend (ops found by argument-dependent lookup
// on the context type): token embedding, per block RMSNorm -> Q/K/V projections -> RoPE -> causal
// grouped-query attention (optional sliding window) over the KV cache -> output projection added to
// the residual -> RMSNorm -> SwiGLU MLP added to the residual; final RMSNorm and the (tied or
// separate) LM head on the requested positions only. One call is a batched prefill (seq > 1) or a
// one-token decode step (seq == 1); with a `kv_cache` the keys/values are appended and positions
// continue from the cache length. Activations are allocated per call (sized by batch * seq).
// The seven block linears go through a `Linears` functor (default `dense_linears`: the f32 weights
// of `layer_weights`), so a caller such as components::generator can run NF4 bases and LoRA
// adapters in the same forward. A Linears functor with a member `head(ctx, m, logits, x, rows)`
// also computes the LM head (e.g. from a bf16 copy); otherwise the f32 m.head() is used.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "hoprag/adapters/targets.hpp"
#include "hoprag/backend/buffer.hpp"
#include "hoprag/backend/ops.hpp"
#include "hoprag/core/error.hpp"
#include "hoprag/models/llama/weights.hpp"

namespace hoprag::models::llama {

/// Keys and values of every layer for `batch` sequences of up to `capacity` tokens. All sequences
/// share one length (batched decode needs equal prompt lengths; generate() runs batch 1).
template <class Context>
struct kv_cache {
    std::int64_t batch = 0, capacity = 0;
    std::int64_t length = 0;                   // tokens stored per sequence
    std::vector<buffer<Context, float>> k, v;  // [num_layers] of [batch, capacity, kv_heads, head_dim]

    kv_cache() = default;
    kv_cache(Context& ctx, const config& c, std::int64_t batch_, std::int64_t capacity_) : batch(batch_), capacity(capacity_) {
        if (batch_ <= 0 || capacity_ <= 0)
            throw config_error("kv_cache: batch and capacity must be > 0, got " + std::to_string(batch_) + " and " + std::to_string(capacity_));
        const auto n = static_cast<std::size_t>(batch * capacity * c.num_kv_heads * c.head_dim);
        for (std::int64_t l = 0; l < c.num_layers; ++l) {
            k.emplace_back(ctx, n);
            v.emplace_back(ctx, n);
        }
    }
    void clear() { length = 0; }
};

namespace detail {
/// out [rows, n] = x [rows, k] W^T (+ beta * out), W [n, k] row-major.
template <class Context>
void linear(Context& ctx, float* out, const float* x, const float* w, std::int64_t rows, std::int64_t k, std::int64_t n,
            float beta = 0.0f) {
    gemm_desc d;
    d.m = rows, d.n = n, d.k = k, d.trans_b = true, d.beta = beta;
    gemm(ctx, packed(d), x, w, out);
}

/// Copies n floats (a backend-side copy through the f32 -> f32 cast).
template <class Context>
void copy(Context& ctx, float* dst, const float* src, std::int64_t n) {
    cast(ctx, dst, dtype::f32, src, dtype::f32, n);
}
}  // namespace detail

/// The default Linears of forward(): out [rows, n] = x [rows, k] W^T + beta * out with W the f32
/// matrix of `layer` for slot t (q, k, v, o, gate, up, down). A replacement takes the same call.
struct dense_linears {
    template <class Context>
    void operator()(Context& ctx, const layer_weights<Context>& w, std::size_t /*layer*/, adapters::target t, float* out, const float* x,
                    std::int64_t rows, std::int64_t k, std::int64_t n, float beta) const {
        const buffer<Context, float>* table[] = {&w.wq, &w.wk, &w.wv, &w.wo, &w.w_gate, &w.w_up, &w.w_down};
        detail::linear(ctx, out, x, table[static_cast<std::size_t>(t)]->data(), rows, k, n, beta);
    }
};

/// Runs the decoder on ids [batch, seq] (host memory) and returns host logits [batch, vocab] of
/// the positions `last` [batch] (default: seq - 1 for every row; with right padding pass each
/// row's last real position). With `cache` (cache->batch == batch, room for seq more tokens) the
/// tokens sit at positions cache->length.. and are appended; without it positions start at 0.
/// `lin` computes the block linears (see dense_linears).
template <class Context, class Linears = dense_linears>
std::vector<float> forward(Context& ctx, const weights<Context>& m, kv_cache<std::type_identity_t<Context>>* cache, std::span<const std::int32_t> ids,
                           std::int64_t batch, std::int64_t seq, std::span<const std::int64_t> last = {}, const Linears& lin = {}) {
    const config& c = m.cfg;
    if (batch <= 0 || seq <= 0 || static_cast<std::int64_t>(ids.size()) != batch * seq)
        throw shape_error("llama forward: ids hold " + std::to_string(ids.size()) + " tokens, expected batch " + std::to_string(batch) +
                          " x seq " + std::to_string(seq) + " (both > 0)");
    if (!last.empty() && static_cast<std::int64_t>(last.size()) != batch)
        throw shape_error("llama forward: `last` holds " + std::to_string(last.size()) + " positions, expected " + std::to_string(batch));
    for (std::int64_t b = 0; b < static_cast<std::int64_t>(last.size()); ++b)
        if (last[b] < 0 || last[b] >= seq)
            throw shape_error("llama forward: last position " + std::to_string(last[b]) + " of row " + std::to_string(b) + " is outside [0, " + std::to_string(seq) + ")");
    const std::int64_t start = cache ? cache->length : 0;
    if (cache) {
        if (cache->batch != batch) throw shape_error("llama forward: cache batch " + std::to_string(cache->batch) + " != batch " + std::to_string(batch));
        if (start + seq > cache->capacity)
            throw shape_error("llama forward: cache holds " + std::to_string(start) + " of " + std::to_string(cache->capacity) +
                              " tokens, no room for " + std::to_string(seq) + " more");
    }
    const std::int64_t N = batch * seq, H = c.hidden_size, D = c.head_dim;
    const std::int64_t qd = c.num_heads * D, kvd = c.num_kv_heads * D, F = c.intermediate_size;
    const std::int64_t kv_len = start + seq;
    const float eps = static_cast<float>(c.rms_norm_eps), theta = static_cast<float>(c.rope_theta);
    const auto n = [](std::int64_t x) { return static_cast<std::size_t>(x); };

    std::vector<std::int32_t> pos(n(N));
    for (std::int64_t i = 0; i < N; ++i) pos[n(i)] = static_cast<std::int32_t>(start + i % seq);
    buffer<Context, std::int32_t> d_ids(ctx, std::vector<std::int32_t>(ids.begin(), ids.end())), d_pos(ctx, pos);
    buffer<Context, float> x(ctx, n(N * H)), xn(ctx, n(N * H)), rstd(ctx, n(N)), q(ctx, n(N * qd)), kn(ctx, n(N * kvd)),
        vn(ctx, n(N * kvd)), att(ctx, n(N * qd)), probs(ctx, n(batch * c.num_heads * seq * kv_len)), gate(ctx, n(N * F)),
        up(ctx, n(N * F));
    const bool gather = cache && batch > 1;  // attention wants [batch, kv_len, ...] contiguous
    buffer<Context, float> kg, vg;
    if (gather) kg = buffer<Context, float>(ctx, n(batch * kv_len * kvd)), vg = buffer<Context, float>(ctx, n(batch * kv_len * kvd));

    embedding_forward(ctx, x.data(), d_ids.data(), m.embed.data(), N, H, c.vocab_size);
    attention_desc ad;
    ad.batch = batch, ad.q_len = seq, ad.kv_len = kv_len, ad.n_heads = c.num_heads, ad.n_kv_heads = c.num_kv_heads;
    ad.head_dim = D, ad.causal = true, ad.window = c.sliding_window;
    for (std::size_t l = 0; l < m.layers.size(); ++l) {
        const auto& w = m.layers[l];
        rmsnorm_forward(ctx, xn.data(), rstd.data(), x.data(), w.attn_norm.data(), N, H, eps);
        lin(ctx, w, l, adapters::target::q, q.data(), xn.data(), N, H, qd, 0.0f);
        lin(ctx, w, l, adapters::target::k, kn.data(), xn.data(), N, H, kvd, 0.0f);
        lin(ctx, w, l, adapters::target::v, vn.data(), xn.data(), N, H, kvd, 0.0f);
        rope_forward(ctx, q.data(), d_pos.data(), batch, seq, c.num_heads, D, theta, m.rope);
        rope_forward(ctx, kn.data(), d_pos.data(), batch, seq, c.num_kv_heads, D, theta, m.rope);
        const float *kp = kn.data(), *vp = vn.data();
        if (cache) {
            float *ck = cache->k[l].data(), *cv = cache->v[l].data();
            for (std::int64_t b = 0; b < batch; ++b) {
                const std::int64_t at = (b * cache->capacity + start) * kvd;
                detail::copy(ctx, ck + at, kn.data() + b * seq * kvd, seq * kvd);
                detail::copy(ctx, cv + at, vn.data() + b * seq * kvd, seq * kvd);
                if (gather) {
                    detail::copy(ctx, kg.data() + b * kv_len * kvd, ck + b * cache->capacity * kvd, kv_len * kvd);
                    detail::copy(ctx, vg.data() + b * kv_len * kvd, cv + b * cache->capacity * kvd, kv_len * kvd);
                }
            }
            kp = gather ? kg.data() : ck;
            vp = gather ? vg.data() : cv;
        }
        attention_forward(ctx, ad, att.data(), probs.data(), q.data(), kp, vp);
        lin(ctx, w, l, adapters::target::o, x.data(), att.data(), N, qd, H, 1.0f);
        rmsnorm_forward(ctx, xn.data(), rstd.data(), x.data(), w.ffn_norm.data(), N, H, eps);
        lin(ctx, w, l, adapters::target::gate, gate.data(), xn.data(), N, H, F, 0.0f);
        lin(ctx, w, l, adapters::target::up, up.data(), xn.data(), N, H, F, 0.0f);
        swiglu_forward(ctx, gate.data(), gate.data(), up.data(), N * F);
        lin(ctx, w, l, adapters::target::down, x.data(), gate.data(), N, F, H, 1.0f);
    }
    if (cache) cache->length = kv_len;
    // final norm and LM head on the requested rows only
    for (std::int64_t b = 0; b < batch; ++b) {
        const std::int64_t row = b * seq + (last.empty() ? seq - 1 : last[b]);
        detail::copy(ctx, xn.data() + b * H, x.data() + row * H, H);
    }
    rmsnorm_forward(ctx, x.data(), rstd.data(), xn.data(), m.final_norm.data(), batch, H, eps);
    buffer<Context, float> logits(ctx, n(batch * c.vocab_size));
    if constexpr (requires { lin.head(ctx, m, logits.data(), static_cast<const float*>(x.data()), batch); })
        lin.head(ctx, m, logits.data(), static_cast<const float*>(x.data()), batch);
    else
        detail::linear(ctx, logits.data(), x.data(), m.head(), batch, H, c.vocab_size);
    return logits.to_host();
}

}  // namespace hoprag::models::llama
