// CUDA parity of the cross-encoder: logits and every parameter gradient of the tiny random model
// (padded batch, with and without gradient checkpointing) on the CUDA backend vs the CPU backend,
// the same with the linears in bf16 and f16, and all-MiniLM-L6-v2 pair logits on both backends.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "hoprag/cpu/backend.hpp"
#include "hoprag/cuda/backend.hpp"
#include "hoprag/models/bert/cross_encoder.hpp"
#include "models/cross_encoder_tiny.hpp"
#include "support/reference.hpp"

using namespace hoprag;
namespace bert = hoprag::models::bert;

namespace {
template <class Context>
std::vector<float> grads_after_backward(Context& ctx, const std::filesystem::path& dir, bool checkpointing, std::vector<float>& logits,
                                        dtype compute = dtype::f32) {
    bert::cross_encoder<Context> ce(ctx, dir, {.max_length = 12, .max_batch = 3, .checkpointing = checkpointing, .compute = compute});
    bert::zero(ctx, ce.grads());
    logits = ce.forward_logits(test::tiny_pairs());
    ce.backward(test::loss_weights);
    std::vector<float> all;
    bert::for_each_tensor(ce.grads(), [&](const std::string&, auto& b) {
        const auto h = b.to_host();
        all.insert(all.end(), h.begin(), h.end());
    });
    return all;
}
}  // namespace

TEST_CASE("cuda cross-encoder logits and gradients match cpu", "[cuda][cross_encoder]") {
    const auto dir = test::tiny_model("cuda-ce");
    cpu::context c;
    cuda::context g;
    for (const bool ckpt : {false, true}) {
        std::vector<float> lc, lg;
        const auto want = grads_after_backward(c, dir, ckpt, lc);
        const auto got = grads_after_backward(g, dir, ckpt, lg);
        test::require_close(lg, lc, 1e-4, 1e-5, "logits");
        test::require_close(got, want, 1e-3, 1e-4, ckpt ? "gradients (checkpointing)" : "gradients");
    }
}

TEST_CASE("cuda cross-encoder in bf16 and f16 matches cpu's 16-bit path", "[cuda][cross_encoder][mixed]") {
    const auto dir = test::tiny_model("cuda-ce-mixed");
    cpu::context c;
    cuda::context g;
    for (dtype t : {dtype::bf16, dtype::f16}) {
        INFO(dtype_name(t));
        std::vector<float> lc, lg;
        const auto want = grads_after_backward(c, dir, false, lc, t);
        const auto got = grads_after_backward(g, dir, false, lg, t);
        // a last-bit difference of an f32 sum can round a later GEMM input one 16-bit step apart
        test::require_close(lg, lc, 1e-2, 1e-3, "logits");
        test::require_close(got, want, 3e-2, 1e-3, "gradients");
    }
}

TEST_CASE("cuda all-MiniLM-L6-v2 pair logits match cpu", "[cuda][cross_encoder]") {
    cpu::context c;
    cuda::context g;
    bert::cross_encoder<cpu::context> a(c, test::minilm(), {.max_length = 128, .max_batch = 4, .train = false, .seed = 3});
    bert::cross_encoder<cuda::context> b(g, test::minilm(), {.max_length = 128, .max_batch = 4, .train = false, .seed = 3});
    std::vector<tokenizers::encoding> pairs;
    for (const char* p : {"Paris: Paris is the capital of France.", "Berlin: a city in Germany", "x", "Lyon: France's third city"})
        pairs.push_back(a.encode("What is the capital of France?", p));
    test::require_close(b.score(pairs), a.score(pairs), 1e-4, 1e-4, "logits");
}
