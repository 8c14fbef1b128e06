// LoRA training of the Llama decoder on the CPU backend (models/llama/train.hpp), tiny random config:
//  * the loss equals the cross-entropy of the inference forward's logits (an independent path);
//  * every A/B gradient vs central differences of the loss (f32 base; NF4 base with dropout), along
//    a random direction over each A and B and on single entries of layer 0, with non-zero B so all
//    of them get gradient; a loss-only evaluation changes no gradient;
//  * gradient checkpointing on == off, bit for bit; dropout masks are deterministic per step and
//    differ between steps;
//  * a right-padded batch gives the token-weighted combination of its rows run alone;
//  * lora_optimizer applies torch's AdamW to every A and B;
//  * the GEMM attention of training equals the backend's attention ops (forward and backward), and
//    a sliding window shorter than the sequence falls back to those ops.
#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <vector>

#include "hoprag/components/generator.hpp"
#include "hoprag/cpu/backend.hpp"
#include "hoprag/models/llama/lora_optimizer.hpp"
#include "hoprag/models/llama/train.hpp"
#include "models/llama_train_tiny.hpp"

using namespace hoprag;
namespace llama = hoprag::models::llama;
using f32_lora = components::generator<quant::none, adapters::lora<4, 8>, cpu::backend>;
using nf4_lora = components::generator<quant::nf4, adapters::lora<4, 8>, cpu::backend>;

namespace {

template <class Gen>
float step(cpu::context& ctx, const Gen& g, const test::train_batch& tb, adapters::lora_grad_set<cpu::context>& grads, const llama::train_options& o = {}) {
    return llama::loss_and_grads(ctx, g, tb.ids, tb.labels, tb.batch, tb.seq, grads, o);
}

/// Gradients vs central differences on a sample of entries of every A and B.
/// Under AddressSanitizer (about 30x slower here) only `asan_layer` is checked, to keep the run short.
template <class Gen>
void check_finite_differences(float dropout, std::size_t asan_layer) {
    cpu::context ctx;
    const auto c = test::train_tiny_config();
    const test::tiny_llama_tensors t(c, false, 7);
    Gen g(ctx, c, t.source(false), 3);
    g.adapter().dropout = dropout;
    test::randomize_adapters(g.adapter(), 11);
    const test::train_batch tb;
    llama::train_options o;
    o.dropout_seed = 5, o.step = 2;
    auto grads = adapters::make_lora_grad_set(ctx, g.adapter());
    const float loss = step(ctx, g, tb, grads, o);
    REQUIRE(std::isfinite(loss));
    llama::train_options lo = o;  // the same loss (dropout masks included) without the backward
    lo.grads = false;
    auto scratch = adapters::make_lora_grad_set(ctx, g.adapter());
    // loss at host values `x` of tensor p (restored afterwards)
    const auto loss_at = [&](buffer<cpu::context, float>& p, const std::vector<float>& x) {
        const auto keep = p.to_host();
        p.assign(x);
        const double v = step(ctx, g, tb, scratch, lo);
        p.assign(keep);
        return v;
    };
    // Richardson-extrapolated central difference along direction d: O(h^4) error
    const auto derivative = [&](buffer<cpu::context, float>& p, const std::vector<float>& d, double h) {
        const auto x0 = p.to_host();
        const auto at = [&](double e) {
            std::vector<float> x(x0);
            for (std::size_t i = 0; i < x.size(); ++i) x[i] += float(e * d[i]);
            return loss_at(p, x);
        };
        const double d1 = (at(h) - at(-h)) / (2 * h), d2 = (at(h / 2) - at(-h / 2)) / h;
        return (4 * d2 - d1) / 3;
    };
    std::size_t checked = 0;
    for (std::size_t l = 0; l < g.adapter().layers.size(); ++l)
        for (auto tg : adapters::all_target_list)
            for (bool is_a : {true, false}) {
#if defined(__SANITIZE_ADDRESS__)
                if (l != asan_layer) continue;
#else
                (void)asan_layer;
#endif
                auto& m = *g.adapter().find(l, tg);
                auto& p = is_a ? m.a : m.b;
                const auto an = (is_a ? grads.at(l, tg).da : grads.at(l, tg).db).to_host();
                double norm = 0;
                for (float v : an) norm += double(v) * v;
                INFO("layer " << l << " " << adapters::peft_module_names[std::size_t(tg)] << (is_a ? " A" : " B"));
                CHECK(norm > 0);  // every A and B gets gradient
                // a random direction over the whole tensor; one entry too in layer 0
                if (l == 0) {
                    const std::size_t i = (std::size_t(tg) * 5 + (is_a ? 0 : 3)) % an.size();
                    std::vector<float> e(an.size(), 0.0f);
                    e[i] = 1.0f;
                    const double fd_entry = derivative(p, e, 2e-2);
                    INFO("entry " << i << ": analytic " << an[i] << " finite difference " << fd_entry);
                    CHECK(std::abs(an[i] - fd_entry) <= 1e-4 + 2e-3 * std::abs(fd_entry));
                }
                const auto dir = test::random_floats(an.size(), 99, -1.0f, 1.0f, l * 16 + std::size_t(tg) * 2 + is_a);
                double proj = 0;
                for (std::size_t k = 0; k < an.size(); ++k) proj += double(an[k]) * dir[k];
                const double fd_dir = derivative(p, dir, 4e-3);  // many entries move: a smaller step
                INFO("direction: analytic " << proj << " finite difference " << fd_dir);
                CHECK(std::abs(proj - fd_dir) <= 2e-4 + 2e-3 * std::abs(fd_dir));
                ++checked;
            }
#if defined(__SANITIZE_ADDRESS__)
    CHECK(checked == 7 * 2);
#else
    CHECK(checked == 2 * 7 * 2);
#endif
}

}  // namespace

TEST_CASE("llama lora training loss equals the cross-entropy of the inference logits", "[llama][train]") {
  for (std::int64_t window : {0, 3}) {  // 3: the sliding window runs the backend's attention ops
    cpu::context ctx;
    auto c = test::train_tiny_config(false);
    c.sliding_window = window;
    const test::tiny_llama_tensors t(c, false, 7);
    f32_lora g(ctx, c, t.source(false), 3);
    test::randomize_adapters(g.adapter(), 11);
    const test::train_batch tb;
    auto grads = adapters::make_lora_grad_set(ctx, g.adapter());
    const float loss = step(ctx, g, tb, grads);
    // reference: logits of position p in each row from forward(..., last), one position per call
    double sum = 0;
    int n = 0;
    for (std::int64_t b = 0; b < tb.batch; ++b)
        for (std::int64_t p = 1; p < tb.seq; ++p) {
            const std::int32_t y = tb.labels[std::size_t(b * tb.seq + p)];
            if (y == llama::ignore_label) continue;
            const std::vector<std::int64_t> last = {p - 1, p - 1};
            const auto logits = g.forward(tb.ids, tb.batch, tb.seq, last);
            const float* row = logits.data() + b * c.vocab_size;
            double mx = -INFINITY, z = 0;
            for (std::int64_t v = 0; v < c.vocab_size; ++v) mx = std::max(mx, double(row[v]));
            for (std::int64_t v = 0; v < c.vocab_size; ++v) z += std::exp(double(row[v]) - mx);
            sum += mx + std::log(z) - row[y], ++n;
        }
    CHECK(n == 6);
    CHECK(std::abs(loss - sum / n) <= 1e-5 * std::abs(sum / n));
    // no target tokens: loss 0 and no gradient
    auto zero = adapters::make_lora_grad_set(ctx, g.adapter());
    const std::vector<std::int32_t> none(tb.ids.size(), llama::ignore_label);
    CHECK(llama::loss_and_grads(ctx, g, tb.ids, none, tb.batch, tb.seq, zero) == 0.0f);
    for (const auto& x : test::host_grads(zero))
        for (float v : x) REQUIRE(v == 0.0f);
    // bad labels and sizes are refused
    auto bad = tb.labels;
    bad[3] = 40;
    REQUIRE_THROWS_AS(llama::loss_and_grads(ctx, g, tb.ids, bad, tb.batch, tb.seq, zero), shape_error);
    REQUIRE_THROWS_AS(llama::loss_and_grads(ctx, g, tb.ids, tb.labels, tb.batch, tb.seq + 1, zero), shape_error);
  }
}

TEST_CASE("gemm attention equals the backend's attention ops, forward and backward", "[llama][train][attention]") {
    cpu::context ctx;
    for (auto [batch, seq, nh, nkv, D] : std::vector<std::array<std::int64_t, 5>>{{2, 7, 4, 2, 4}, {1, 1, 3, 1, 6}, {2, 33, 6, 3, 8}, {1, 5, 2, 2, 2}}) {
        attention_desc d;
        d.batch = batch, d.q_len = d.kv_len = seq, d.n_heads = nh, d.n_kv_heads = nkv, d.head_dim = D, d.causal = true;
        REQUIRE(llama::gemm_attention_applies(d));
        const auto q = test::random_floats(batch * seq * nh * D, 1), k = test::random_floats(batch * seq * nkv * D, 2);
        const auto v = test::random_floats(batch * seq * nkv * D, 3), dout = test::random_floats(q.size(), 4);
        std::vector<std::int32_t> limits(batch * nh * seq);
        llama::causal_row_limits(limits.data(), d);
        std::vector<float> out(q.size()), probs(batch * nh * seq * seq), out2(out), probs2(probs), dprobs(probs.size());
        std::vector<float> dq(q.size()), dk(k.size()), dv(v.size()), dq2(dq), dk2(dk), dv2(dv);
        llama::gemm_attention_forward(ctx, d, out.data(), probs.data(), q.data(), k.data(), v.data(), limits.data());
        attention_forward(ctx, d, out2.data(), probs2.data(), q.data(), k.data(), v.data());
        test::require_close(out, out2, 1e-5, 1e-6, "out");
        test::require_close(probs, probs2, 1e-5, 1e-7, "probs");
        llama::gemm_attention_backward(ctx, d, dq.data(), dk.data(), dv.data(), dprobs.data(), dout.data(), q.data(), k.data(), v.data(), probs.data());
        attention_backward(ctx, d, dq2.data(), dk2.data(), dv2.data(), dout.data(), q.data(), k.data(), v.data(), probs2.data());
        test::require_close(dq, dq2, 1e-4, 1e-6, "dq");
        test::require_close(dk, dk2, 1e-4, 1e-6, "dk");
        test::require_close(dv, dv2, 1e-4, 1e-6, "dv");
    }
    attention_desc w;
    w.batch = 1, w.q_len = w.kv_len = 8, w.causal = true, w.window = 3, w.head_dim = 2;
    CHECK_FALSE(llama::gemm_attention_applies(w));
}

TEST_CASE("llama lora gradients match finite differences, f32 base", "[llama][train]") { check_finite_differences<f32_lora>(0.0f, 0); }
TEST_CASE("llama lora gradients match finite differences, nf4 base with dropout", "[llama][train]") { check_finite_differences<nf4_lora>(0.2f, 1); }

TEST_CASE("llama lora checkpointing gives identical gradients, and dropout is deterministic per step", "[llama][train]") {
    cpu::context ctx;
    const auto c = test::train_tiny_config();
    const test::tiny_llama_tensors t(c, false, 7);
    for (float p : {0.0f, 0.3f}) {
        nf4_lora g(ctx, c, t.source(false), 3);
        g.adapter().dropout = p;
        test::randomize_adapters(g.adapter(), 12);
        const test::train_batch tb;
        llama::train_options on, off;
        on.checkpointing = true, off.checkpointing = false;
        on.step = off.step = 4;
        llama::train_workspace<cpu::context> ws_on, ws_off;
        auto g_on = adapters::make_lora_grad_set(ctx, g.adapter()), g_off = adapters::make_lora_grad_set(ctx, g.adapter());
        const float l_on = llama::loss_and_grads(ctx, g, tb.ids, tb.labels, tb.batch, tb.seq, g_on, on, &ws_on);
        const float l_off = llama::loss_and_grads(ctx, g, tb.ids, tb.labels, tb.batch, tb.seq, g_off, off, &ws_off);
        CHECK(l_on == l_off);
        CHECK(test::host_grads(g_on) == test::host_grads(g_off));
        CHECK(ws_on.bytes() < ws_off.bytes());
        CHECK(ws_off.bytes() == llama::train_workspace_bytes(c, llama::make_train_shape(g.adapter(), tb.batch, tb.seq, off)));
        // same step again (accumulating onto zeroed grads, reusing the workspace): same result
        adapters::zero_grads(ctx, g_on);
        CHECK(llama::loss_and_grads(ctx, g, tb.ids, tb.labels, tb.batch, tb.seq, g_on, on, &ws_on) == l_on);
        CHECK(test::host_grads(g_on) == test::host_grads(g_off));
        // another step: another dropout mask
        on.step = 5;
        adapters::zero_grads(ctx, g_on);
        const float l5 = llama::loss_and_grads(ctx, g, tb.ids, tb.labels, tb.batch, tb.seq, g_on, on, &ws_on);
        if (p > 0) CHECK(l5 != l_on);
        else CHECK(l5 == l_on);
        // loss only: no gradient, no dropout
        llama::train_options nod = on;
        nod.dropout = false;
        const auto before = test::host_grads(g_on);
        const float l_eval = llama::loss_only(ctx, g, tb.ids, tb.labels, tb.batch, tb.seq);
        CHECK(test::host_grads(g_on) == before);
        CHECK(l_eval == llama::loss_and_grads(ctx, g, tb.ids, tb.labels, tb.batch, tb.seq, g_on, nod, &ws_on));
        if (p == 0) CHECK(l_eval == l_on);
    }
}

TEST_CASE("llama lora right-padded batch equals its rows run alone", "[llama][train]") {
    cpu::context ctx;
    const auto c = test::train_tiny_config();
    const test::tiny_llama_tensors t(c, false, 7);
    f32_lora g(ctx, c, t.source(false), 3);
    test::randomize_adapters(g.adapter(), 13);
    const test::train_batch tb;
    auto gb = adapters::make_lora_grad_set(ctx, g.adapter()), g0 = adapters::make_lora_grad_set(ctx, g.adapter()),
         g1 = adapters::make_lora_grad_set(ctx, g.adapter());
    const float lb = step(ctx, g, tb, gb);
    const std::span<const std::int32_t> ids(tb.ids), labels(tb.labels);
    const float l0 = llama::loss_and_grads(ctx, g, ids.first(7), labels.first(7), 1, 7, g0);
    const float l1 = llama::loss_and_grads(ctx, g, ids.subspan(7, 5), labels.subspan(7, 5), 1, 5, g1);  // unpadded
    const double t0 = 4, t1 = 2;
    CHECK(std::abs(lb - (l0 * t0 + l1 * t1) / (t0 + t1)) <= 1e-5 * std::abs(lb));
    const auto hb = test::host_grads(gb), h0 = test::host_grads(g0), h1 = test::host_grads(g1);
    REQUIRE(hb.size() == h0.size());
    for (std::size_t i = 0; i < hb.size(); ++i) {
        std::vector<double> want(hb[i].size());
        for (std::size_t j = 0; j < want.size(); ++j) want[j] = (h0[i][j] * t0 + h1[i][j] * t1) / (t0 + t1);
        test::require_close(hb[i], want, 1e-3, 1e-6, "tensor " + std::to_string(i));
    }
}

TEST_CASE("lora_optimizer applies AdamW to every A and B", "[llama][train]") {
    cpu::context ctx;
    const auto c = test::train_tiny_config();
    const test::tiny_llama_tensors t(c, false, 7);
    f32_lora g(ctx, c, t.source(false), 3);
    test::randomize_adapters(g.adapter(), 14);
    const test::train_batch tb;
    auto grads = adapters::make_lora_grad_set(ctx, g.adapter());
    step(ctx, g, tb, grads);
    llama::lora_optimizer<cpu::context> opt(ctx, g.adapter(), grads);
    REQUIRE(opt.tensors().size() == 2 * 7 * 2);
    CHECK(std::string(opt.tensors()[1].name) == "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight");
    const auto before = g.adapter().find(1, adapters::target::down)->b.to_host();
    const auto gd = grads.at(1, adapters::target::down).db.to_host();
    train::adamw_hparams hp;
    opt.step(ctx, train::make_adamw_step(hp, 1, 1e-3f));
    const auto after = g.adapter().find(1, adapters::target::down)->b.to_host();
    std::vector<double> want(before.size());
    for (std::size_t i = 0; i < want.size(); ++i) {  // torch AdamW, step 1: m_hat = g, v_hat = g^2
        const double w = before[i], gi = gd[i];
        want[i] = w - 1e-3 * 0.01 * w - 1e-3 * gi / (std::abs(gi) + 1e-8);
    }
    test::require_close(after, want, 1e-6, 1e-7, "down B after one step");
}

TEST_CASE("llama lora training in bf16 and f16 compute stays close to f32 and rounds every block linear", "[llama][train][mixed]") {
    const auto c = test::train_tiny_config();
    const test::tiny_llama_tensors t(c, false, 7);
    const test::train_batch tb;
    const auto run = [&]<class Gen>(Gen& g, dtype compute) {
        cpu::context ctx;
        g.set_compute_type(compute);
        CHECK(g.compute_type() == compute);
        auto grads = adapters::make_lora_grad_set(ctx, g.adapter());
        const float loss = step(ctx, g, tb, grads);
        std::vector<float> all;
        for (std::size_t l = 0; l < g.adapter().layers.size(); ++l)
            for (auto tg : adapters::all_target_list)
                for (const auto* b : {&grads.at(l, tg).da, &grads.at(l, tg).db}) {
                    const auto h = b->to_host();
                    all.insert(all.end(), h.begin(), h.end());
                }
        return std::pair{loss, all};
    };
    const auto check_family = [&]<class Gen>() {
        cpu::context ctx;
        Gen g(ctx, c, t.source(false), 3);
        test::randomize_adapters(g.adapter(), 11);
        const auto [loss32, grad32] = run(g, dtype::f32);
        for (dtype d : {dtype::bf16, dtype::f16}) {
            INFO(dtype_name(d) << (Gen::quant_policy::quantizes ? " nf4" : " f32") << " base");
            const auto [loss, grad] = run(g, d);
            double diff = 0, norm = 0;
            for (std::size_t i = 0; i < grad.size(); ++i) diff += std::pow(double(grad[i]) - grad32[i], 2), norm += double(grad32[i]) * grad32[i];
            INFO("loss " << loss << " vs f32 " << loss32 << ", gradient relative error " << std::sqrt(diff / norm));
            // tolerances scale with the type's unit roundoff (bf16 2^-8, f16 2^-11): measured 5.1e-2 and
            // 2.2e-2 (bf16, f32 / NF4 base), 5.5e-3 and 3.5e-3 (f16)
            const double eps = d == dtype::bf16 ? 0x1p-8 : 0x1p-11;
            CHECK(std::abs(loss - loss32) <= eps * std::abs(loss32));
            CHECK(std::sqrt(diff / norm) < 25 * eps);
            CHECK(diff > 0);  // the products really ran in 16 bits
        }
        // inference takes the same path: prefill logits of a row, and a single-row (decode) forward
        const auto logits = [&](dtype d, std::int64_t seq) {
            g.set_compute_type(d);
            return g.forward(std::span(tb.ids).first(static_cast<std::size_t>(seq)), 1, seq);
        };
        for (std::int64_t seq : {tb.seq, std::int64_t{1}}) {
            const auto want = logits(dtype::f32, seq);
            for (dtype d : {dtype::bf16, dtype::f16}) {
                const auto got = logits(d, seq);
                double worst = 0, scale = 1;
                for (std::size_t i = 0; i < got.size(); ++i)
                    worst = std::max(worst, std::abs(double(got[i]) - want[i])), scale = std::max(scale, std::abs(double(want[i])));
                INFO(dtype_name(d) << " forward of " << seq << " tokens: largest logit difference " << worst << " (largest logit " << scale << ")");
                CHECK(worst > 0);
                CHECK(worst < 25 * (d == dtype::bf16 ? 0x1p-8 : 0x1p-11) * scale);
            }
        }
        CHECK_THROWS_AS(g.set_compute_type(dtype::i32), config_error);
    };
    check_family.template operator()<f32_lora>();
    check_family.template operator()<nf4_lora>();
}
