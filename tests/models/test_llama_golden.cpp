// SmolLM2-135M-Instruct (Q4_1 GGUF, dequantised to f32) against golden data from a plain PyTorch
// Llama forward (tests/golden/make_llama_golden.py, which un-permutes Q/K and uses rotate-half RoPE,
// while hoprag keeps the stored rows and uses interleaved RoPE). 20 HotpotQA questions in ChatML:
// last-position logits from one right-padded batched prefill match within relative error 1e-4
// (max error over the reference's top-50 logits / their largest magnitude, and the full-logit
// norm); greedy 32-token continuations through the KV cache match exactly on 3 prompts (kept to 3
// for test time; all 20 are in the golden file).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "hoprag/cpu/backend.hpp"
#include "hoprag/models/llama/generate.hpp"
#include "support/reference.hpp"

using namespace hoprag;
namespace llama = hoprag::models::llama;

namespace {
const std::filesystem::path gguf_path =
    std::filesystem::path(test::source_dir()) / ".cache/models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf";

nlohmann::json golden() {
    std::ifstream f(test::source_dir() + "/tests/golden/llama_smollm2.json");
    REQUIRE(f.good());
    return nlohmann::json::parse(f);
}
}  // namespace

TEST_CASE("SmolLM2 logits and greedy continuations match the PyTorch reference", "[llama][golden]") {
    if (!std::filesystem::exists(gguf_path)) FAIL("model file missing: " << gguf_path);
    const auto gold = golden();
    const auto& prompts = gold.at("prompts");
    REQUIRE(prompts.size() == 20);
    cpu::context ctx;
    const io::gguf_file g(gguf_path);
    const auto m = llama::load_gguf(ctx, g);
    REQUIRE(m.rope == rope_style::interleaved);
    REQUIRE(m.cfg.num_layers == 30);
    REQUIRE(m.cfg.tie_word_embeddings);

    // one right-padded batched prefill of all prompts
    const std::int64_t batch = static_cast<std::int64_t>(prompts.size());
    std::int64_t seq = 0;
    for (const auto& p : prompts) seq = std::max<std::int64_t>(seq, static_cast<std::int64_t>(p.at("ids").size()));
    std::vector<std::int32_t> ids(static_cast<std::size_t>(batch * seq), 0);
    std::vector<std::int64_t> last(static_cast<std::size_t>(batch));
    for (std::int64_t b = 0; b < batch; ++b) {
        const auto p = prompts[static_cast<std::size_t>(b)].at("ids").get<std::vector<std::int32_t>>();
        std::copy(p.begin(), p.end(), ids.begin() + b * seq);
        last[static_cast<std::size_t>(b)] = static_cast<std::int64_t>(p.size()) - 1;
    }
    const auto logits = llama::forward(ctx, m, nullptr, ids, batch, seq, last);
    const std::int64_t V = m.cfg.vocab_size;
    double worst = 0.0, worst_norm = 0.0;
    for (std::int64_t b = 0; b < batch; ++b) {
        const auto& p = prompts[static_cast<std::size_t>(b)];
        const auto top_ids = p.at("top_ids").get<std::vector<std::int64_t>>();
        const auto top = p.at("top_logits").get<std::vector<double>>();
        const float* row = logits.data() + b * V;
        double scale = 0.0, err = 0.0, norm = 0.0;
        for (double t : top) scale = std::max(scale, std::abs(t));
        for (std::size_t i = 0; i < top.size(); ++i) err = std::max(err, std::abs(row[top_ids[i]] - top[i]));
        for (std::int64_t i = 0; i < V; ++i) norm += double(row[i]) * row[i];
        const double rel = err / scale, rel_norm = std::abs(std::sqrt(norm) - p.at("logits_norm").get<double>()) / p.at("logits_norm").get<double>();
        INFO("prompt " << b << ": " << p.at("question").get<std::string>() << " top-50 rel error " << rel << ", norm rel error " << rel_norm);
        CHECK(rel <= 1e-4);
        CHECK(rel_norm <= 1e-4);
        CHECK(llama::argmax({row, static_cast<std::size_t>(V)}) == top_ids[0]);
        worst = std::max(worst, rel), worst_norm = std::max(worst_norm, rel_norm);
    }
    WARN("SmolLM2 golden: worst top-50 relative error " << worst << ", worst norm relative error " << worst_norm);

    for (std::size_t b : {std::size_t(0), std::size_t(8), std::size_t(19)}) {
        const auto& p = prompts[b];
        const auto prompt = p.at("ids").get<std::vector<std::int32_t>>();
        llama::generate_options o;
        o.max_new_tokens = 32;
        o.stop_at_eos = false;  // the reference decodes 32 tokens without stopping
        const auto gen = llama::generate(ctx, m, prompt, o);
        INFO("prompt " << b);
        CHECK(gen.tokens == p.at("greedy").get<std::vector<std::int32_t>>());
        CHECK(gen.stop_reason == "max_tokens");
    }
}
