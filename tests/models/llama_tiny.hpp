// Test support: a tiny random Llama config and its weights as an in-memory weight_source (HF or
// GGUF names), plus a float64 reference forward written plainly, shared by the CPU unit tests and
// the CUDA parity test.
#pragma once

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "hoprag/models/llama/weights.hpp"
#include "support/reference.hpp"

namespace hoprag::test {

inline models::llama::config tiny_llama_config(std::int64_t window = 0) {
    models::llama::config c;
    c.vocab_size = 37, c.hidden_size = 24, c.num_layers = 2, c.num_heads = 4, c.num_kv_heads = 2, c.head_dim = 6;
    c.intermediate_size = 20, c.rms_norm_eps = 1e-5, c.rope_theta = 10000.0, c.tie_word_embeddings = false;
    c.sliding_window = window, c.eos_token_id = 2;
    return c;
}

/// Random tensors for every name the loader wants (norm weights near 1).
struct tiny_llama_tensors {
    std::map<std::string, std::vector<float>> data;
    std::map<std::string, shape> shapes;

    tiny_llama_tensors(const models::llama::config& c, bool gguf_names, std::uint64_t seed) {
        models::llama::weight_source probe;
        probe.gguf_names = gguf_names;
        std::uint64_t stream = 0;
        for (const auto& w : models::llama::detail::wanted_tensors(c, probe)) {
            const bool norm = w.dims.rank == 1;
            data[w.name] = random_floats(static_cast<std::size_t>(w.dims.numel()), seed, norm ? 0.5f : -0.5f, norm ? 1.5f : 0.5f, ++stream);
            shapes[w.name] = w.dims;
        }
    }
    models::llama::weight_source source(bool gguf_names) const {
        models::llama::weight_source s;
        s.origin = "tiny";
        s.shapes = shapes;
        s.read = [this](const std::string& n, std::span<float> out) { std::copy(data.at(n).begin(), data.at(n).end(), out.begin()); };
        s.rope = gguf_names ? rope_style::interleaved : rope_style::half;
        s.gguf_names = gguf_names;
        return s;
    }
};

/// float64 logits [seq, vocab] at every position of one sequence (HF names, rotate-half RoPE).
inline std::vector<double> tiny_llama_reference(const models::llama::config& c, const tiny_llama_tensors& t,
                                                const std::vector<std::int32_t>& ids) {
    const auto W = [&](const std::string& n) { return to_double(t.data.at(n)); };
    const std::int64_t T = static_cast<std::int64_t>(ids.size()), H = c.hidden_size, D = c.head_dim, F = c.intermediate_size;
    const std::int64_t nh = c.num_heads, nkv = c.num_kv_heads;
    const auto rms = [&](const std::vector<double>& x, const std::vector<double>& w) {
        std::vector<double> y(x.size());
        for (std::int64_t i = 0; i < T; ++i) {
            double s = 0;
            for (std::int64_t j = 0; j < H; ++j) s += x[i * H + j] * x[i * H + j];
            const double r = 1.0 / std::sqrt(s / H + c.rms_norm_eps);
            for (std::int64_t j = 0; j < H; ++j) y[i * H + j] = x[i * H + j] * r * w[j];
        }
        return y;
    };
    const auto lin = [&](const std::vector<double>& x, const std::vector<double>& w, std::int64_t in, std::int64_t out) {
        std::vector<double> y(static_cast<std::size_t>(T * out));
        for (std::int64_t i = 0; i < T; ++i)
            for (std::int64_t o = 0; o < out; ++o) {
                double s = 0;
                for (std::int64_t k = 0; k < in; ++k) s += x[i * in + k] * w[o * in + k];
                y[i * out + o] = s;
            }
        return y;
    };
    const auto rope = [&](std::vector<double>& x, std::int64_t heads) {
        for (std::int64_t i = 0; i < T; ++i)
            for (std::int64_t h = 0; h < heads; ++h)
                for (std::int64_t p = 0; p < D / 2; ++p) {
                    const double a = i * std::pow(c.rope_theta, -2.0 * p / D);
                    double& x0 = x[(i * heads + h) * D + p];
                    double& x1 = x[(i * heads + h) * D + p + D / 2];
                    const double u = x0, v = x1;
                    x0 = u * std::cos(a) - v * std::sin(a), x1 = u * std::sin(a) + v * std::cos(a);
                }
    };
    const auto emb = W("model.embed_tokens.weight");
    std::vector<double> x(static_cast<std::size_t>(T * H));
    for (std::int64_t i = 0; i < T; ++i)
        for (std::int64_t j = 0; j < H; ++j) x[i * H + j] = emb[ids[i] * H + j];
    for (std::int64_t l = 0; l < c.num_layers; ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        auto h = rms(x, W(p + "input_layernorm.weight"));
        auto q = lin(h, W(p + "self_attn.q_proj.weight"), H, nh * D), k = lin(h, W(p + "self_attn.k_proj.weight"), H, nkv * D);
        auto v = lin(h, W(p + "self_attn.v_proj.weight"), H, nkv * D);
        rope(q, nh), rope(k, nkv);
        std::vector<double> a(static_cast<std::size_t>(T * nh * D), 0.0);
        for (std::int64_t i = 0; i < T; ++i)
            for (std::int64_t hh = 0; hh < nh; ++hh) {
                const std::int64_t g = hh / (nh / nkv);
                std::vector<double> s(static_cast<std::size_t>(T), -INFINITY);
                double mx = -INFINITY, z = 0;
                for (std::int64_t j = 0; j <= i; ++j) {
                    if (c.sliding_window > 0 && i - j >= c.sliding_window) continue;
                    double d = 0;
                    for (std::int64_t e = 0; e < D; ++e) d += q[(i * nh + hh) * D + e] * k[(j * nkv + g) * D + e];
                    s[j] = d / std::sqrt(double(D));
                    mx = std::max(mx, s[j]);
                }
                for (std::int64_t j = 0; j <= i; ++j) z += s[j] == -INFINITY ? 0.0 : std::exp(s[j] - mx);
                for (std::int64_t j = 0; j <= i; ++j) {
                    if (s[j] == -INFINITY) continue;
                    const double pj = std::exp(s[j] - mx) / z;
                    for (std::int64_t e = 0; e < D; ++e) a[(i * nh + hh) * D + e] += pj * v[(j * nkv + g) * D + e];
                }
            }
        const auto o = lin(a, W(p + "self_attn.o_proj.weight"), nh * D, H);
        for (std::size_t i = 0; i < x.size(); ++i) x[i] += o[i];
        h = rms(x, W(p + "post_attention_layernorm.weight"));
        auto gt = lin(h, W(p + "mlp.gate_proj.weight"), H, F), up = lin(h, W(p + "mlp.up_proj.weight"), H, F);
        for (std::size_t i = 0; i < gt.size(); ++i) gt[i] = gt[i] / (1.0 + std::exp(-gt[i])) * up[i];
        const auto dn = lin(gt, W(p + "mlp.down_proj.weight"), F, H);
        for (std::size_t i = 0; i < x.size(); ++i) x[i] += dn[i];
    }
    const auto xn = rms(x, W("model.norm.weight"));
    return lin(xn, W("lm_head.weight"), H, c.vocab_size);
}

}  // namespace hoprag::test
