// LoRA training step of a Llama-family decoder: `loss_and_grads` runs the training forward on
// ids [batch, seq], the mean cross-entropy over the target tokens, and the backward through the
// frozen LM head (no gradient; tied embedding or not), the final RMSNorm and every block
// (train_block.hpp) into the LoRA A/B gradients, which it ACCUMULATES into a lora_grad_set.
// Labels follow the Hugging Face convention: labels [batch, seq] are aligned with ids, the logits
// at position t predict labels[t + 1], and -100 marks positions without loss (prompt, padding).
// Batches are right-padded (pads labelled -100; the causal mask keeps real tokens exact).
// With gradient checkpointing (default) only each layer's input is kept and a block is recomputed
// in backward; without it every block's activations are kept. Both give identical gradients.
// The LM head runs on the target rows only, `head_chunk` rows at a time. Memory: one
// train_workspace (sized by train_workspace_bytes), reusable across steps.
//
// A trainer step with gradient accumulation (see train/gradients.hpp):
//   auto grads = adapters::make_lora_grad_set(ctx, gen.adapter());
//   llama::lora_optimizer<Ctx> opt(ctx, gen.adapter(), grads);  // models/llama/lora_optimizer.hpp
//   llama::train_workspace<Ctx> ws;
//   per micro-batch: if (acc.window_start()) adapters::zero_grads(ctx, grads);
//       o.step = micro_step++;  // new dropout masks
//       loss = llama::loss_and_grads(ctx, gen, ids, labels, batch, seq, grads, o, &ws);
//       if (acc.micro_step()) {
//           auto r = train::inspect_grads(ctx, opt.tensors(), o.loss_scale, max_norm, acc.steps());
//           if (r.finite) opt.step(ctx, train::make_adamw_step(hparams, ++t, lr, r.grad_scale));
//       }
#pragma once

#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "hoprag/adapters/lora.hpp"
#include "hoprag/adapters/lora_grads.hpp"
#include "hoprag/backend/ops.hpp"
#include "hoprag/core/error.hpp"
#include "hoprag/models/llama/train_block.hpp"
#include "hoprag/models/llama/train_workspace.hpp"
#include "hoprag/models/llama/weights.hpp"

namespace hoprag::models::llama {

/// Label value of positions without loss.
inline constexpr std::int32_t ignore_label = -100;

/// Options of a training step.
struct train_options {
    bool checkpointing = true;        // keep layer inputs only, recompute blocks in backward
    float loss_scale = 1.0f;          // gradients are of loss_scale * mean loss (fp16 loss scaling)
    std::uint64_t dropout_seed = 0;   // LoRA dropout (probability from the adapters) mask key
    std::uint64_t step = 0;           // micro-step counter: a different dropout mask per step
    std::int64_t head_chunk = 64;     // LM-head rows per chunk
    bool grads = true;                // false: loss only (no backward, `g` untouched)
    bool dropout = true;              // false: no LoRA dropout even when the adapters have p > 0 (evaluation)
};

/// The workspace shape of a step.
template <class Context>
train_shape make_train_shape(const adapters::lora_adapters<Context>& a, std::int64_t batch, std::int64_t seq, const train_options& o) {
    train_shape s;
    s.batch = batch, s.seq = seq, s.rank = a.rank, s.targets = a.targets, s.dropout = o.dropout && a.dropout > 0.0f;
    s.checkpointing = o.checkpointing, s.head_chunk = o.head_chunk;
    return s;
}

namespace detail {
/// Target rows (b * seq + t whose next label is not ignored) and their labels; checks the sizes.
inline void target_rows(std::span<const std::int32_t> ids, std::span<const std::int32_t> labels, std::int64_t batch, std::int64_t seq,
                        std::int64_t vocab, std::vector<std::int32_t>& rows, std::vector<std::int32_t>& targets) {
    if (batch <= 0 || seq <= 0 || static_cast<std::int64_t>(ids.size()) != batch * seq || labels.size() != ids.size())
        throw shape_error("llama training: ids hold " + std::to_string(ids.size()) + " and labels " + std::to_string(labels.size()) +
                          " tokens, expected batch " + std::to_string(batch) + " x seq " + std::to_string(seq) + " (both > 0) each");
    rows.clear(), targets.clear();
    for (std::int64_t b = 0; b < batch; ++b)
        for (std::int64_t t = 0; t < seq; ++t) {
            const std::int32_t y = labels[static_cast<std::size_t>(b * seq + t)];
            if (y == ignore_label) continue;
            if (y < 0 || y >= vocab)
                throw shape_error("llama training: label " + std::to_string(y) + " at row " + std::to_string(b) + ", position " + std::to_string(t) +
                                  " is outside [0, " + std::to_string(vocab) + ") and is not -100");
            if (t == 0) continue;  // nothing predicts the first token
            rows.push_back(static_cast<std::int32_t>(b * seq + t - 1));
            targets.push_back(y);
        }
}
}  // namespace detail

/// One training step on ids [batch, seq] with labels [batch, seq] (host memory): returns the mean
/// cross-entropy over target tokens (0 when there are none; then no gradient is added) and adds
/// loss_scale * d(mean loss)/d(A, B) to `g` for every adapter. `ws` is (re)carved for this shape.
template <class Context, class Base>
float loss_and_grads(Context& ctx, const lora_model<Context, Base>& m, std::span<const std::int32_t> ids, std::span<const std::int32_t> labels,
                     std::int64_t batch, std::int64_t seq, adapters::lora_grad_set<Context>& g, const train_options& o, train_workspace<Context>& ws) {
    const config& c = m.model->cfg;
    const auto& ad = *m.adapters;
    if ((o.grads && g.layers.size() != ad.layers.size()) || ad.layers.size() != static_cast<std::size_t>(c.num_layers))
        throw shape_error("llama training: " + std::to_string(c.num_layers) + " layers, adapters for " + std::to_string(ad.layers.size()) +
                          ", gradients for " + std::to_string(g.layers.size()) + " (make them with make_lora_grad_set)");
    std::vector<std::int32_t> rows, targets;
    detail::target_rows(ids, labels, batch, seq, c.vocab_size, rows, targets);
    const std::int64_t T = static_cast<std::int64_t>(rows.size());
    if (T == 0) return 0.0f;

    ws.prepare(ctx, c, make_train_shape(ad, batch, seq, o));
    const train_buffers& b = ws.buffers();
    const std::int64_t N = batch * seq, H = c.hidden_size, V = c.vocab_size, L = c.num_layers;
    const float eps = static_cast<float>(c.rms_norm_eps);
    std::vector<std::int32_t> pos(static_cast<std::size_t>(N));
    for (std::int64_t i = 0; i < N; ++i) pos[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(i % seq);
    upload(ctx, b.ids, ids.data(), ids.size_bytes());
    upload(ctx, b.pos, pos.data(), pos.size() * sizeof(std::int32_t));
    upload(ctx, b.rows, rows.data(), rows.size() * sizeof(std::int32_t));
    upload(ctx, b.targets, targets.data(), targets.size() * sizeof(std::int32_t));
    std::vector<std::int32_t> limits(static_cast<std::size_t>(batch * c.num_heads * seq));
    causal_row_limits(limits.data(), block_attention(c, batch, seq));
    upload(ctx, b.row_limit, limits.data(), limits.size() * sizeof(std::int32_t));

    block_step st;
    st.batch = batch, st.seq = seq, st.dropout = o.dropout ? ad.dropout : 0.0f, st.dropout_seed = o.dropout_seed, st.dropout_step = o.step;
    const auto acts = [&](std::int64_t l) -> const block_acts& { return b.acts[o.checkpointing ? 0 : static_cast<std::size_t>(l)]; };
    const auto out_of = [&](std::int64_t l) { return l + 1 < L ? b.x_in[static_cast<std::size_t>(l + 1)] : b.x_final; };

    // forward
    embedding_forward(ctx, b.x_in[0], b.ids, m.model->embed.data(), N, H, V);
    for (std::int64_t l = 0; l < L; ++l) block_forward(ctx, m, static_cast<std::size_t>(l), st, acts(l), b, b.x_in[static_cast<std::size_t>(l)], out_of(l));

    // LM head on the target rows, chunk by chunk: loss, then dL/dx_final scattered into b.dx
    zero_fill(ctx, b.dx, N * H);
    const std::int64_t C = std::min(o.head_chunk, N);
    std::vector<float> loss_host(static_cast<std::size_t>(C));
    double loss_sum = 0.0;
    const float grad_scale = o.loss_scale / static_cast<float>(T);
    for (std::int64_t r0 = 0; r0 < T; r0 += C) {
        const std::int64_t n = std::min(C, T - r0);
        embedding_forward(ctx, b.hf, b.rows + r0, b.x_final, n, H, N);  // gather rows
        rmsnorm_forward(ctx, b.hfn, b.rstdf, b.hf, m.model->final_norm.data(), n, H, eps);
        gemm_desc d;  // logits [n, V] = hfn [n, H] head^T
        d.m = n, d.n = V, d.k = H, d.trans_b = true;
        gemm(ctx, packed(d), b.hfn, m.model->head(), b.logits);
        cross_entropy_forward(ctx, b.loss, b.lse, b.logits, b.targets + r0, n, V, ignore_label);
        download(ctx, loss_host.data(), b.loss, static_cast<std::size_t>(n) * sizeof(float));
        for (std::int64_t i = 0; i < n; ++i) loss_sum += loss_host[static_cast<std::size_t>(i)];
        if (!o.grads) continue;
        cross_entropy_backward(ctx, b.logits, b.logits, b.lse, b.targets + r0, grad_scale, n, V, ignore_label);
        gemm_desc e;  // dhfn [n, H] = dlogits [n, V] head [V, H]
        e.m = n, e.n = H, e.k = V;
        gemm(ctx, packed(e), b.logits, m.model->head(), b.dhfn);
        rmsnorm_backward(ctx, b.dhf, nullptr, b.dhfn, b.hf, m.model->final_norm.data(), b.rstdf, n, H);
        embedding_backward(ctx, b.dx, b.rows + r0, b.dhf, n, H, N);  // scatter-add rows
    }

    // backward through the blocks (the last block's activations are still in place)
    if (o.grads) {
        for (std::int64_t l = L - 1; l >= 0; --l) {
            const auto lu = static_cast<std::size_t>(l);
            if (o.checkpointing && l != L - 1) block_forward(ctx, m, lu, st, acts(l), b, b.x_in[lu], out_of(l));
            block_backward(ctx, m, lu, st, acts(l), b, b.x_in[lu], g);
        }
    }
    return static_cast<float>(loss_sum / static_cast<double>(T));
}

/// The same for a components::generator with LoRA (anything with context, model(), base(l, t)
/// and adapter()); a local workspace is used when `ws` is nullptr.
template <class Generator>
float loss_and_grads(typename Generator::context& ctx, const Generator& gen, std::span<const std::int32_t> ids, std::span<const std::int32_t> labels,
                     std::int64_t batch, std::int64_t seq, adapters::lora_grad_set<typename Generator::context>& g, const train_options& o = {},
                     train_workspace<typename Generator::context>* ws = nullptr) {
    using context = typename Generator::context;
    const auto base = [&gen](std::size_t l, adapters::target t) -> const nn::frozen_linear<context>& { return gen.base(l, t); };
    const lora_model<context, decltype(base)> m{&gen.model(), base, &gen.adapter()};
    train_workspace<context> local;
    return loss_and_grads(ctx, m, ids, labels, batch, seq, g, o, ws ? *ws : local);
}


/// The mean cross-entropy over target tokens of a generator with LoRA, without gradients and
/// without dropout (evaluation): loss_and_grads with o.grads = o.dropout = false.
template <class Generator>
float loss_only(typename Generator::context& ctx, const Generator& gen, std::span<const std::int32_t> ids, std::span<const std::int32_t> labels,
                std::int64_t batch, std::int64_t seq, train_options o = {}, train_workspace<typename Generator::context>* ws = nullptr) {
    o.grads = false, o.dropout = false;
    adapters::lora_grad_set<typename Generator::context> none;
    return loss_and_grads(ctx, gen, ids, labels, batch, seq, none, o, ws);
}

}  // namespace hoprag::models::llama
