// Planned activation memory of Llama LoRA training (DESIGN rule 4): every buffer the training
// forward and backward touch — the residual stream at each layer input, one block's saved
// activations per layer (or a single set with gradient checkpointing, which keeps layer inputs
// only and recomputes a block in backward), the backward scratch, the chunked LM-head buffers and
// the token/position/target index arrays — is laid out by ONE function `train_layout` that runs
// twice: over an `arena_plan` to size it from (config, batch, seq, adapter rank, dropout,
// checkpointing) and over an `arena` to carve one backend allocation. Nothing is allocated per op.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "hoprag/adapters/targets.hpp"
#include "hoprag/backend/buffer.hpp"
#include "hoprag/core/arena.hpp"
#include "hoprag/core/error.hpp"
#include "hoprag/models/llama/config.hpp"

namespace hoprag::models::llama {

/// What sizes the training workspace.
struct train_shape {
    std::int64_t batch = 0, seq = 0;        // ids are [batch, seq]
    std::int64_t rank = 0;                  // LoRA rank (0 = no adapters)
    adapters::target_set targets{};         // adapted linears
    bool dropout = false;                   // LoRA dropout > 0: keep each adapter's dropped input
    bool checkpointing = true;              // keep layer inputs only; recompute blocks in backward
    std::int64_t head_chunk = 64;           // LM-head rows per chunk (logits [head_chunk, vocab])

    bool operator==(const train_shape&) const = default;
};

/// One block's forward state, kept for its backward (pointers into the workspace). N = batch * seq.
struct block_acts {
    float* xn1 = nullptr;    // [N, hidden] attention RMSNorm output
    float* rstd1 = nullptr;  // [N]
    float* q = nullptr;      // [N, heads * head_dim] after RoPE
    float* k = nullptr;      // [N, kv_heads * head_dim] after RoPE
    float* v = nullptr;      // [N, kv_heads * head_dim]
    float* probs = nullptr;  // [batch, heads, seq, seq] attention weights
    float* att = nullptr;    // [N, heads * head_dim] attention output (o_proj input)
    float* x_mid = nullptr;  // [N, hidden] residual after attention
    float* xn2 = nullptr;    // [N, hidden] MLP RMSNorm output
    float* rstd2 = nullptr;  // [N]
    float* gate = nullptr;   // [N, ffn] gate_proj output (pre-activation)
    float* up = nullptr;     // [N, ffn] up_proj output
    float* act = nullptr;    // [N, ffn] silu(gate) * up (down_proj input)
    std::array<float*, adapters::target_count> u{};   // [N, rank] x A^T per adapted linear
    std::array<float*, adapters::target_count> xd{};  // [N, in] dropped adapter input (dropout only)
};

/// Every buffer of one training step (pointers into the workspace).
struct train_buffers {
    std::vector<float*> x_in;       // [num_layers] of [N, hidden]: each layer's input (residual stream)
    float* x_final = nullptr;       // [N, hidden] last layer's output
    std::vector<block_acts> acts;   // [num_layers], or [1] with checkpointing
    // backward scratch
    float *dx = nullptr, *dtmp = nullptr, *dxn = nullptr;       // [N, hidden]
    float *d_act = nullptr, *dgate = nullptr, *dup = nullptr;   // [N, ffn]
    float *d_att = nullptr, *dq = nullptr;                      // [N, heads * head_dim]
    float *dk = nullptr, *dv = nullptr;                         // [N, kv_heads * head_dim]
    float* dprobs = nullptr;        // [batch, heads, seq, seq] attention backward scratch
    float* du = nullptr;            // [N, rank] adapter scratch
    float* dt = nullptr;            // [N, max in] adapter dropout scratch (dropout only)
    // LM head, head_chunk rows at a time
    float *hf = nullptr, *hfn = nullptr, *dhfn = nullptr, *dhf = nullptr;  // [chunk, hidden]
    float *rstdf = nullptr, *loss = nullptr, *lse = nullptr;               // [chunk]
    float* logits = nullptr;        // [chunk, vocab]; overwritten by dlogits
    // indices
    std::int32_t *ids = nullptr, *pos = nullptr;          // [N] tokens, positions
    std::int32_t *rows = nullptr, *targets = nullptr;     // [N] target rows (b * seq + t) and their labels
    std::int32_t* row_limit = nullptr;                    // [batch * heads * seq] causal softmax limits
};

namespace detail {
/// Sizing pass: records requests, hands out nullptr.
struct plan_taker {
    arena_plan plan;
    template <class T>
    T* take(const std::string& name, std::size_t n) {
        plan.reserve<T>(name, n);
        return nullptr;
    }
};
/// Carving pass over a real allocation.
struct arena_taker {
    arena a;
    template <class T>
    T* take(const std::string& name, std::size_t n) {
        return a.take<T>(name, n);
    }
};
}  // namespace detail

/// Lays out every training buffer through `tk.take<T>(name, count)` (the single source of truth
/// for both the size plan and the carving).
template <class Taker>
train_buffers train_layout(Taker& tk, const config& c, const train_shape& s) {
    const auto z = [](std::int64_t v) { return static_cast<std::size_t>(v); };
    const std::int64_t N = s.batch * s.seq, H = c.hidden_size, qd = c.num_heads * c.head_dim, kvd = c.num_kv_heads * c.head_dim;
    const std::int64_t F = c.intermediate_size, V = c.vocab_size, C = std::min(s.head_chunk, N);
    const std::array<std::int64_t, adapters::target_count> in = {H, H, H, qd, H, H, F};
    train_buffers b;
    const auto f = [&](const std::string& name, std::int64_t n) { return tk.template take<float>(name, z(n)); };
    for (std::int64_t l = 0; l < c.num_layers; ++l) b.x_in.push_back(f("x_in." + std::to_string(l), N * H));
    b.x_final = f("x_final", N * H);
    const std::int64_t sets = s.checkpointing ? 1 : c.num_layers;
    for (std::int64_t l = 0; l < sets; ++l) {
        const std::string p = "acts." + std::to_string(l) + ".";
        block_acts a;
        a.xn1 = f(p + "xn1", N * H), a.rstd1 = f(p + "rstd1", N);
        a.q = f(p + "q", N * qd), a.k = f(p + "k", N * kvd), a.v = f(p + "v", N * kvd);
        a.probs = f(p + "probs", s.batch * c.num_heads * s.seq * s.seq);
        a.att = f(p + "att", N * qd), a.x_mid = f(p + "x_mid", N * H);
        a.xn2 = f(p + "xn2", N * H), a.rstd2 = f(p + "rstd2", N);
        a.gate = f(p + "gate", N * F), a.up = f(p + "up", N * F), a.act = f(p + "act", N * F);
        for (auto t : adapters::all_target_list) {
            if (s.rank <= 0 || !s.targets.contains(t)) continue;
            const auto i = static_cast<std::size_t>(t);
            const std::string name(adapters::peft_module_names[i]);
            a.u[i] = f(p + "u." + name, N * s.rank);
            if (s.dropout) a.xd[i] = f(p + "xd." + name, N * in[i]);
        }
        b.acts.push_back(a);
    }
    b.dx = f("dx", N * H), b.dtmp = f("dtmp", N * H), b.dxn = f("dxn", N * H);
    b.d_act = f("d_act", N * F), b.dgate = f("dgate", N * F), b.dup = f("dup", N * F);
    b.d_att = f("d_att", N * qd), b.dq = f("dq", N * qd), b.dk = f("dk", N * kvd), b.dv = f("dv", N * kvd);
    b.dprobs = f("dprobs", s.batch * c.num_heads * s.seq * s.seq);
    if (s.rank > 0) b.du = f("du", N * s.rank);
    if (s.rank > 0 && s.dropout) b.dt = f("dt", N * std::max({H, qd, F}));
    b.hf = f("head.hf", C * H), b.hfn = f("head.hfn", C * H), b.dhfn = f("head.dhfn", C * H), b.dhf = f("head.dhf", C * H);
    b.rstdf = f("head.rstd", C), b.loss = f("head.loss", C), b.lse = f("head.lse", C);
    b.logits = f("head.logits", C * V);
    b.ids = tk.template take<std::int32_t>("ids", z(N)), b.pos = tk.template take<std::int32_t>("pos", z(N));
    b.rows = tk.template take<std::int32_t>("rows", z(N)), b.targets = tk.template take<std::int32_t>("targets", z(N));
    b.row_limit = tk.template take<std::int32_t>("row_limit", z(s.batch * c.num_heads * s.seq));
    return b;
}

/// Bytes of the training workspace for config c and shape s (what plan_memory reports as activations).
inline std::size_t train_workspace_bytes(const config& c, const train_shape& s) {
    detail::plan_taker p;
    train_layout(p, c, s);
    return p.plan.bytes();
}

/// The training workspace: one backend allocation carved by train_layout. Reused across steps;
/// `prepare` re-carves it for a new shape and reallocates only when the shape needs more memory.
template <class Context>
class train_workspace {
public:
    train_workspace() = default;

    /// Carves the buffers for (c, s), reallocating only when more memory is needed. Throws config_error for non-positive batch or seq.
    void prepare(Context& ctx, const config& c, const train_shape& s) {
        if (s.batch <= 0 || s.seq <= 0 || s.head_chunk <= 0)
            throw config_error("llama training: batch, seq and head_chunk must be > 0, got " + std::to_string(s.batch) + ", " +
                               std::to_string(s.seq) + ", " + std::to_string(s.head_chunk));
        const std::size_t need = train_workspace_bytes(c, s);
        if (need > memory_.size()) memory_ = buffer<Context, unsigned char>(ctx, need);
        detail::arena_taker t{arena(memory_.data(), memory_.size())};
        buffers_ = train_layout(t, c, s);
        shape_ = s;
    }
    const train_buffers& buffers() const { return buffers_; }
    const train_shape& shape() const { return shape_; }
    /// Bytes allocated.
    std::size_t bytes() const { return memory_.size(); }

private:
    buffer<Context, unsigned char> memory_;
    train_buffers buffers_;
    train_shape shape_;
};

}  // namespace hoprag::models::llama
