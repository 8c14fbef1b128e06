// Attention forward vs a float64 reference written plainly here, and backward (dq, dk, dv) vs
// central differences of that reference with loss = sum(dout * out). Cases cover head_dim 1/3/64,
// decode (q_len 1, kv_len 7, causal), GQA 6/2 heads, padding limits including 0, sliding windows,
// q_len > kv_len and an explicit scale; plus determinism across thread counts and bad descriptors.
#include <catch2/catch.hpp>

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "hoprag/cpu/backend.hpp"
#include "support/reference.hpp"

using namespace hoprag;

namespace {

struct attn_case {
    std::string name;
    attention_desc d;
    std::vector<std::int32_t> kv_valid;  // empty = no padding mask
};

/// Plain float64 attention: out [B, Q, H, D], probs [B, H, Q, K].
void attention_ref(const attention_desc& d, const std::vector<std::int32_t>& valid, const std::vector<double>& q,
                   const std::vector<double>& k, const std::vector<double>& v, std::vector<double>& out,
                   std::vector<double>& probs) {
    const std::int64_t B = d.batch, Q = d.q_len, K = d.kv_len, H = d.n_heads, KH = d.n_kv_heads, D = d.head_dim;
    const double scale = d.scale != 0.0f ? d.scale : 1.0 / std::sqrt(double(D));
    out.assign(B * Q * H * D, 0.0);
    probs.assign(B * H * Q * K, 0.0);
    for (std::int64_t b = 0; b < B; ++b)
        for (std::int64_t h = 0; h < H; ++h) {
            const std::int64_t kh = h / (H / KH);
            for (std::int64_t i = 0; i < Q; ++i) {
                std::vector<bool> see(K);
                for (std::int64_t j = 0; j < K; ++j) {
                    bool ok = true;
                    if (!valid.empty() && j >= valid[b]) ok = false;
                    if (d.causal && j > i + K - Q) ok = false;
                    if (d.window > 0 && j <= i + K - Q - d.window) ok = false;
                    see[j] = ok;
                }
                std::vector<double> s(K, -INFINITY);
                double m = -INFINITY;
                for (std::int64_t j = 0; j < K; ++j) {
                    if (!see[j]) continue;
                    double dot = 0.0;
                    for (std::int64_t c = 0; c < D; ++c)
                        dot += q[((b * Q + i) * H + h) * D + c] * k[((b * K + j) * KH + kh) * D + c];
                    s[j] = dot * scale;
                    m = std::max(m, s[j]);
                }
                double sum = 0.0;
                for (std::int64_t j = 0; j < K; ++j)
                    if (see[j]) sum += std::exp(s[j] - m);
                for (std::int64_t j = 0; j < K; ++j) {
                    if (!see[j]) continue;
                    const double p = std::exp(s[j] - m) / sum;
                    probs[((b * H + h) * Q + i) * K + j] = p;
                    for (std::int64_t c = 0; c < D; ++c)
                        out[((b * Q + i) * H + h) * D + c] += p * v[((b * K + j) * KH + kh) * D + c];
                }
            }
        }
}

attention_desc make(std::int64_t batch, std::int64_t q_len, std::int64_t kv_len, std::int64_t heads, std::int64_t kv_heads,
                    std::int64_t head_dim, bool causal = false, std::int64_t window = 0, float scale = 0.0f) {
    attention_desc d;
    d.batch = batch;
    d.q_len = q_len;
    d.kv_len = kv_len;
    d.n_heads = heads;
    d.n_kv_heads = kv_heads;
    d.head_dim = head_dim;
    d.causal = causal;
    d.window = window;
    d.scale = scale;
    return d;
}

std::vector<attn_case> cases() {
    return {
        {"plain b2 q5 kv5 h2 d3", make(2, 5, 5, 2, 2, 3), {}},
        {"causal head_dim 1", make(1, 4, 4, 1, 1, 1, true), {}},
        {"causal head_dim 64 q4 kv6", make(1, 4, 6, 1, 1, 64, true), {}},
        {"decode q1 kv7 causal", make(2, 1, 7, 2, 1, 8, true), {}},
        {"gqa 6 heads 2 kv heads causal", make(1, 3, 5, 6, 2, 4, true), {}},
        {"padding incl. 0", make(3, 2, 5, 2, 1, 3), {5, 0, 3}},
        {"padding + causal", make(2, 4, 4, 2, 2, 2, true), {2, 4}},
        {"causal window 3", make(1, 6, 6, 1, 1, 3, true, 3), {}},
        {"window without causal, kv offset", make(1, 3, 7, 2, 1, 5, false, 2), {}},
        {"q_len > kv_len causal (rows without keys)", make(1, 5, 3, 1, 1, 3, true), {}},
        {"explicit scale", make(1, 3, 4, 1, 1, 6, false, 0, 0.7f), {}},
    };
}

struct inputs {
    std::vector<float> q, k, v, dout;
};

inputs random_inputs(const attention_desc& d, std::uint64_t seed) {
    const std::size_t nq = d.batch * d.q_len * d.n_heads * d.head_dim, nk = d.batch * d.kv_len * d.n_kv_heads * d.head_dim;
    return {test::random_floats(nq, seed, -1.5f, 1.5f, 0), test::random_floats(nk, seed, -1.5f, 1.5f, 1),
            test::random_floats(nk, seed, -1.0f, 1.0f, 2), test::random_floats(nq, seed, -1.0f, 1.0f, 3)};
}

}  // namespace

TEST_CASE("attention forward matches a float64 reference", "[attention]") {
    cpu::context ctx;
    std::uint64_t seed = 100;
    for (auto c : cases()) {
        SECTION(c.name) {
            if (!c.kv_valid.empty()) c.d.kv_valid = c.kv_valid.data();
            const auto in = random_inputs(c.d, ++seed);
            std::vector<float> out(in.q.size(), 9.0f), probs(c.d.batch * c.d.n_heads * c.d.q_len * c.d.kv_len, 9.0f);
            cpu::attention_forward(ctx, c.d, out.data(), probs.data(), in.q.data(), in.k.data(), in.v.data());
            std::vector<double> out_ref, probs_ref;
            attention_ref(c.d, c.kv_valid, test::to_double(in.q), test::to_double(in.k), test::to_double(in.v), out_ref,
                          probs_ref);
            test::require_close(out, out_ref, 1e-5, 1e-6, c.name + " out");
            test::require_close(probs, probs_ref, 1e-5, 1e-7, c.name + " probs");
            for (std::size_t i = 0; i < probs.size(); ++i)
                if (probs_ref[i] == 0.0) REQUIRE(probs[i] == 0.0f);  // masked keys are exactly 0
        }
    }
}

TEST_CASE("attention backward matches central differences", "[attention]") {
    cpu::context ctx;
    std::uint64_t seed = 200;
    for (auto c : cases()) {
        SECTION(c.name) {
            if (!c.kv_valid.empty()) c.d.kv_valid = c.kv_valid.data();
            const auto in = random_inputs(c.d, ++seed);
            std::vector<float> out(in.q.size()), probs(c.d.batch * c.d.n_heads * c.d.q_len * c.d.kv_len);
            cpu::attention_forward(ctx, c.d, out.data(), probs.data(), in.q.data(), in.k.data(), in.v.data());
            std::vector<float> dq(in.q.size(), 9.0f), dk(in.k.size(), 9.0f), dv(in.v.size(), 9.0f);
            cpu::attention_backward(ctx, c.d, dq.data(), dk.data(), dv.data(), in.dout.data(), in.q.data(), in.k.data(),
                                    in.v.data(), probs.data());
            const auto q = test::to_double(in.q), k = test::to_double(in.k), v = test::to_double(in.v);
            auto loss = [&](const std::vector<double>& qq, const std::vector<double>& kk, const std::vector<double>& vv) {
                std::vector<double> o, p;
                attention_ref(c.d, c.kv_valid, qq, kk, vv, o, p);
                double l = 0.0;
                for (std::size_t i = 0; i < o.size(); ++i) l += in.dout[i] * o[i];
                return l;
            };
            const auto gq = test::numeric_gradient(q, [&](const std::vector<double>& x) { return loss(x, k, v); });
            const auto gk = test::numeric_gradient(k, [&](const std::vector<double>& x) { return loss(q, x, v); });
            const auto gv = test::numeric_gradient(v, [&](const std::vector<double>& x) { return loss(q, k, x); });
            test::require_close(dq, gq, 1e-4, 2e-6, c.name + " dq");
            test::require_close(dk, gk, 1e-4, 2e-6, c.name + " dk");
            test::require_close(dv, gv, 1e-4, 2e-6, c.name + " dv");
        }
    }
}

TEST_CASE("attention is deterministic across thread counts", "[attention]") {
    cpu::context ctx;
    const attention_desc d = make(2, 9, 9, 6, 2, 16, true);
    const auto in = random_inputs(d, 7);
    auto run = [&](int threads) {
        const int keep = omp_get_max_threads();
        omp_set_num_threads(threads);
        std::vector<float> out(in.q.size()), probs(d.batch * d.n_heads * d.q_len * d.kv_len);
        std::vector<float> dq(in.q.size()), dk(in.k.size()), dv(in.v.size());
        cpu::attention_forward(ctx, d, out.data(), probs.data(), in.q.data(), in.k.data(), in.v.data());
        cpu::attention_backward(ctx, d, dq.data(), dk.data(), dv.data(), in.dout.data(), in.q.data(), in.k.data(),
                                in.v.data(), probs.data());
        omp_set_num_threads(keep);
        out.insert(out.end(), dq.begin(), dq.end());
        out.insert(out.end(), dk.begin(), dk.end());
        out.insert(out.end(), dv.begin(), dv.end());
        return out;
    };
    REQUIRE(run(1) == run(3));
}

TEST_CASE("attention rejects unusable descriptors", "[attention]") {
    cpu::context ctx;
    float x = 0.0f;
    REQUIRE_THROWS_AS(cpu::attention_forward(ctx, make(1, 2, 2, 6, 4, 3), &x, &x, &x, &x, &x), shape_error);
    REQUIRE_THROWS_AS(cpu::attention_forward(ctx, make(1, 2, 2, 1, 1, 0), &x, &x, &x, &x, &x), shape_error);
    REQUIRE_THROWS_AS(cpu::attention_backward(ctx, make(1, -1, 2, 1, 1, 4), &x, &x, &x, &x, &x, &x, &x, &x), shape_error);
    REQUIRE_THROWS_AS(cpu::attention_forward(ctx, make(1, 2, 2, 1, 1, 4, true, -1), &x, &x, &x, &x, &x), shape_error);
}
