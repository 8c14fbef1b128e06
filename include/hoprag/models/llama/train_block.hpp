// Forward and backward of one Llama decoder block for LoRA training (DESIGN rule 3, llm.c style):
//   x_mid = x + o(attention(rope(q(n1)), rope(k(n1)), v(n1))),  n1 = rmsnorm(x)
//   x_out = x_mid + down(silu(gate(n2)) * up(n2)),              n2 = rmsnorm(x_mid)
// where each of the seven linears is a frozen base (f32 or NF4, nn::frozen_linear) plus an optional
// LoRA. Forward saves what backward needs in a `block_acts`; backward turns dL/dx_out into dL/dx
// (in place), accumulates dA/dB of the adapters, and pushes gradients through the frozen bases by
// dequantise-on-the-fly GEMMs (frozen_backward) without ever forming a base-weight gradient. Norm
// gains, embeddings and the LM head stay frozen. All memory comes from the train_workspace.
#pragma once

#include <cstdint>

#include "hoprag/adapters/lora.hpp"
#include "hoprag/adapters/lora_grads.hpp"
#include "hoprag/backend/ops.hpp"
#include "hoprag/core/rng.hpp"
#include "hoprag/models/llama/train_attention.hpp"
#include "hoprag/models/llama/train_workspace.hpp"
#include "hoprag/models/llama/weights.hpp"
#include "hoprag/nn/frozen_linear.hpp"
#include "hoprag/nn/lora.hpp"

namespace hoprag::models::llama {

/// The frozen parts of a decoder and its adapters as training sees them. `Base` is callable as
/// base(layer, target) -> const nn::frozen_linear<Context>& (e.g. a generator's base()).
template <class Context, class Base>
struct lora_model {
    const weights<Context>* model;                      // embedding, norms, LM head
    Base base;                                          // frozen block linears
    const adapters::lora_adapters<Context>* adapters;   // LoRA of the block linears
};

/// Sizes of one step and the dropout stream.
struct block_step {
    std::int64_t batch = 0, seq = 0;
    float dropout = 0.0f;          // LoRA input dropout probability
    std::uint64_t dropout_seed = 0;
    std::uint64_t dropout_step = 0;  // distinct masks per step; the same in a checkpointed recompute
};

/// The dropout of adapter (layer, t) at a step: probability p, key = seed, stream =
/// step * 2^20 + 8 * layer + t, so a checkpointed recompute redraws the same mask.
inline nn::lora_dropout block_dropout(const block_step& s, std::size_t layer, adapters::target t) {
    return {s.dropout, philox_stream{s.dropout_seed, (s.dropout_step << 20) + 8 * layer + static_cast<std::uint64_t>(t)}};
}

/// The attention of the training forward: causal, GQA, the config's sliding window.
inline attention_desc block_attention(const config& c, std::int64_t batch, std::int64_t seq) {
    attention_desc d;
    d.batch = batch, d.q_len = seq, d.kv_len = seq, d.n_heads = c.num_heads, d.n_kv_heads = c.num_kv_heads;
    d.head_dim = c.head_dim, d.causal = true, d.window = c.sliding_window;
    return d;
}

/// Forward of block `l`: x [N, hidden] -> x_out [N, hidden] (x_out != x), saving activations in `a`.
/// `b` gives the token positions b.pos [N] and the causal softmax limits b.row_limit.
template <class Context, class Base>
void block_forward(Context& ctx, const lora_model<Context, Base>& m, std::size_t l, const block_step& s, const block_acts& a,
                   const train_buffers& b, const float* x, float* x_out) {
    const std::int32_t* pos = b.pos;
    const config& c = m.model->cfg;
    const layer_weights<Context>& w = m.model->layers[l];
    const std::int64_t N = s.batch * s.seq, H = c.hidden_size, F = c.intermediate_size;
    const float eps = static_cast<float>(c.rms_norm_eps), theta = static_cast<float>(c.rope_theta);
    using adapters::target;
    const auto lin = [&](target t, float* y, const float* in, float beta) {
        nn::frozen_forward(ctx, m.base(l, t), y, in, N, beta);
        if (const auto* la = m.adapters->find(l, t)) {
            const auto i = static_cast<std::size_t>(t);
            nn::lora_forward_to(ctx, *la, y, in, N, block_dropout(s, l, t), a.xd[i], a.u[i]);
        }
    };
    const auto copy = [&](float* dst, const float* src, std::int64_t n) { cast(ctx, dst, dtype::f32, src, dtype::f32, n); };

    rmsnorm_forward(ctx, a.xn1, a.rstd1, x, w.attn_norm.data(), N, H, eps);
    lin(target::q, a.q, a.xn1, 0.0f);
    lin(target::k, a.k, a.xn1, 0.0f);
    lin(target::v, a.v, a.xn1, 0.0f);
    rope_forward(ctx, a.q, pos, s.batch, s.seq, c.num_heads, c.head_dim, theta, m.model->rope);
    rope_forward(ctx, a.k, pos, s.batch, s.seq, c.num_kv_heads, c.head_dim, theta, m.model->rope);
    const attention_desc ad = block_attention(c, s.batch, s.seq);
    if (gemm_attention_applies(ad)) gemm_attention_forward(ctx, ad, a.att, a.probs, a.q, a.k, a.v, b.row_limit);
    else attention_forward(ctx, ad, a.att, a.probs, a.q, a.k, a.v);
    copy(a.x_mid, x, N * H);
    lin(target::o, a.x_mid, a.att, 1.0f);
    rmsnorm_forward(ctx, a.xn2, a.rstd2, a.x_mid, w.ffn_norm.data(), N, H, eps);
    lin(target::gate, a.gate, a.xn2, 0.0f);
    lin(target::up, a.up, a.xn2, 0.0f);
    swiglu_forward(ctx, a.act, a.gate, a.up, N * F);
    copy(x_out, a.x_mid, N * H);
    lin(target::down, x_out, a.act, 1.0f);
}

/// Backward of block `l`: on entry b.dx [N, hidden] holds dL/dx_out, on exit dL/dx (x = the
/// block input, as given to block_forward with the activations `a`). Accumulates the adapters'
/// dA/dB into `g`; uses b's scratch.
template <class Context, class Base>
void block_backward(Context& ctx, const lora_model<Context, Base>& m, std::size_t l, const block_step& s, const block_acts& a,
                    const train_buffers& b, const float* x, adapters::lora_grad_set<Context>& g) {
    const std::int32_t* pos = b.pos;
    const config& c = m.model->cfg;
    const layer_weights<Context>& w = m.model->layers[l];
    const std::int64_t N = s.batch * s.seq, H = c.hidden_size, F = c.intermediate_size;
    const float theta = static_cast<float>(c.rope_theta);
    using adapters::target;
    // dx_in [N, in] (= dy W (+ dx_in when beta = 1)) + adapter part; dA, dB accumulate
    const auto lin = [&](target t, float* dx_in, const float* dy, const float* in, float beta) {
        nn::frozen_backward(ctx, m.base(l, t), dx_in, dy, N, beta);
        if (const auto* la = m.adapters->find(l, t)) {
            const auto i = static_cast<std::size_t>(t);
            const auto drop = block_dropout(s, l, t);
            nn::lora_backward_to(ctx, *la, g.at(l, t), dx_in, dy, drop.p > 0.0f ? a.xd[i] : in, a.u[i], N, drop, b.du, b.dt);
        }
    };
    // MLP: x_out = x_mid + down(act)
    lin(target::down, b.d_act, b.dx, a.act, 0.0f);
    swiglu_backward(ctx, b.dgate, b.dup, b.d_act, a.gate, a.up, N * F);
    lin(target::gate, b.dxn, b.dgate, a.xn2, 0.0f);
    lin(target::up, b.dxn, b.dup, a.xn2, 1.0f);
    rmsnorm_backward(ctx, b.dtmp, nullptr, b.dxn, a.x_mid, w.ffn_norm.data(), a.rstd2, N, H);
    add(ctx, b.dx, b.dx, b.dtmp, N * H);  // dL/dx_mid
    // attention: x_mid = x + o(att)
    lin(target::o, b.d_att, b.dx, a.att, 0.0f);
    const attention_desc ad = block_attention(c, s.batch, s.seq);
    if (gemm_attention_applies(ad)) gemm_attention_backward(ctx, ad, b.dq, b.dk, b.dv, b.dprobs, b.d_att, a.q, a.k, a.v, a.probs);
    else attention_backward(ctx, ad, b.dq, b.dk, b.dv, b.d_att, a.q, a.k, a.v, a.probs);
    rope_backward(ctx, b.dq, pos, s.batch, s.seq, c.num_heads, c.head_dim, theta, m.model->rope);
    rope_backward(ctx, b.dk, pos, s.batch, s.seq, c.num_kv_heads, c.head_dim, theta, m.model->rope);
    lin(target::q, b.dxn, b.dq, a.xn1, 0.0f);
    lin(target::k, b.dxn, b.dk, a.xn1, 1.0f);
    lin(target::v, b.dxn, b.dv, a.xn1, 1.0f);
    rmsnorm_backward(ctx, b.dtmp, nullptr, b.dxn, x, w.attn_norm.data(), a.rstd1, N, H);
    add(ctx, b.dx, b.dx, b.dtmp, N * H);  // dL/dx
}

}  // namespace hoprag::models::llama
