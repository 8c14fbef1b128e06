// CUDA attention parity vs the CPU backend: forward (out, probs) and backward (dq, dk, dv) over
// plain, causal, decode, GQA, padded (incl. 0 valid keys), windowed and q_len > kv_len cases.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "hoprag/backend/buffer.hpp"
#include "hoprag/cpu/backend.hpp"
#include "hoprag/cuda/backend.hpp"
#include "support/reference.hpp"

using namespace hoprag;

namespace {
attention_desc cuda_case(std::int64_t batch, std::int64_t q_len, std::int64_t kv_len, std::int64_t heads,
                         std::int64_t kv_heads, std::int64_t head_dim, bool causal, std::int64_t window) {
    attention_desc d;
    d.batch = batch;
    d.q_len = q_len;
    d.kv_len = kv_len;
    d.n_heads = heads;
    d.n_kv_heads = kv_heads;
    d.head_dim = head_dim;
    d.causal = causal;
    d.window = window;
    return d;
}
}  // namespace

TEST_CASE("cuda attention matches cpu", "[cuda][attention]") {
    cpu::context cctx;
    cuda::context gctx;
    struct cs {
        attention_desc d;
        std::vector<std::int32_t> valid;
    };
    const std::vector<cs> all = {
        {cuda_case(2, 5, 5, 2, 2, 3, false, 0), {}},   {cuda_case(1, 4, 6, 1, 1, 64, true, 0), {}},
        {cuda_case(2, 1, 7, 2, 1, 8, true, 0), {}},    {cuda_case(2, 33, 33, 6, 2, 64, true, 0), {}},
        {cuda_case(3, 2, 5, 2, 1, 1, false, 0), {5, 0, 3}}, {cuda_case(1, 9, 12, 4, 4, 16, true, 4), {}},
        {cuda_case(1, 5, 3, 1, 1, 3, true, 0), {}},
    };
    std::uint64_t seed = 500;
    for (auto c : all) {
        const attention_desc& d0 = c.d;
        const std::size_t nq = d0.batch * d0.q_len * d0.n_heads * d0.head_dim;
        const std::size_t nk = d0.batch * d0.kv_len * d0.n_kv_heads * d0.head_dim;
        const std::size_t np = d0.batch * d0.n_heads * d0.q_len * d0.kv_len;
        ++seed;
        const auto q = test::random_floats(nq, seed, -1.5f, 1.5f, 0), k = test::random_floats(nk, seed, -1.5f, 1.5f, 1);
        const auto v = test::random_floats(nk, seed, -1.0f, 1.0f, 2), dout = test::random_floats(nq, seed, -1.0f, 1.0f, 3);

        attention_desc dc = d0;
        if (!c.valid.empty()) dc.kv_valid = c.valid.data();
        std::vector<float> out(nq), probs(np), dq(nq), dk(nk), dv(nk);
        cpu::attention_forward(cctx, dc, out.data(), probs.data(), q.data(), k.data(), v.data());
        cpu::attention_backward(cctx, dc, dq.data(), dk.data(), dv.data(), dout.data(), q.data(), k.data(), v.data(),
                                probs.data());

        buffer<cuda::context, float> gq(gctx, q), gk(gctx, k), gv(gctx, v), gdout(gctx, dout);
        buffer<cuda::context, float> gout(gctx, nq), gprobs(gctx, np), gdq(gctx, nq), gdk(gctx, nk), gdv(gctx, nk);
        buffer<cuda::context, std::int32_t> gvalid(gctx, c.valid.empty() ? std::vector<std::int32_t>{0} : c.valid);
        attention_desc dg = d0;
        if (!c.valid.empty()) dg.kv_valid = gvalid.data();
        cuda::attention_forward(gctx, dg, gout.data(), gprobs.data(), gq.data(), gk.data(), gv.data());
        cuda::attention_backward(gctx, dg, gdq.data(), gdk.data(), gdv.data(), gdout.data(), gq.data(), gk.data(),
                                 gv.data(), gprobs.data());
        const std::string name = "case " + std::to_string(seed - 500);
        test::require_close(gout.to_host(), out, 1e-5, 1e-6, name + " out");
        test::require_close(gprobs.to_host(), probs, 1e-5, 1e-7, name + " probs");
        test::require_close(gdq.to_host(), dq, 1e-4, 1e-6, name + " dq");
        test::require_close(gdk.to_host(), dk, 1e-4, 1e-6, name + " dk");
        test::require_close(gdv.to_host(), dv, 1e-4, 1e-6, name + " dv");
    }
}
