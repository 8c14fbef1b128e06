// Cross-encoder tests: the full backward (embeddings, every layer's LayerNorms, attention with a
// padding mask, GELU MLP, pooler, head) against central finite differences of the model's own
// forward on a tiny random config, sampling entries of every parameter tensor; gradient
// checkpointing gives bit-identical gradients; bf16 / f16 linears stay close to f32; padding does
// not change a pair's logit; the
// training forward on the real all-MiniLM-L6-v2 weights matches the golden CLS states of the
// float64 PyTorch reference (tests/golden/make_bert_golden.py) and the inference forward; a saved
// folder loads back to the same logits; a head with two labels is refused.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hoprag/cpu/backend.hpp"
#include "hoprag/io/safetensors.hpp"
#include "hoprag/models/bert/cross_encoder.hpp"
#include "hoprag/models/bert/encoder.hpp"
#include "models/cross_encoder_tiny.hpp"
#include "support/files.hpp"
#include "support/reference.hpp"

using namespace hoprag;
namespace bert = hoprag::models::bert;
namespace fs = std::filesystem;
using test::minilm;
using test::tiny_model;
using test::tiny_pairs;
using test::loss_weights;

namespace {

double loss_of(bert::cross_encoder<cpu::context>& ce, const std::vector<tokenizers::encoding>& pairs) {
    const auto l = ce.forward_logits(pairs);
    double s = 0.0;
    for (std::size_t i = 0; i < l.size(); ++i) s += double(loss_weights[i]) * l[i];
    return s;
}

/// All gradients of the cross-encoder, concatenated in for_each_tensor order.
std::vector<std::vector<float>> all_grads(bert::cross_encoder<cpu::context>& ce) {
    std::vector<std::vector<float>> g;
    bert::for_each_tensor(ce.grads(), [&](const std::string&, auto& b) { g.push_back(b.to_host()); });
    return g;
}

}  // namespace

TEST_CASE("cross-encoder backward matches finite differences for every parameter tensor", "[bert][cross_encoder][grad]") {
    cpu::context ctx;
    const auto dir = tiny_model("ce-fd");
    bert::cross_encoder<cpu::context> ce(ctx, dir, {.max_length = 12, .max_batch = 3});
    CHECK_FALSE(ce.head_fresh());
    const auto pairs = tiny_pairs();
    bert::zero(ctx, ce.grads());
    (void)loss_of(ce, pairs);
    ce.backward(loss_weights);
    const auto grads = all_grads(ce);

    std::size_t t = 0, checked = 0;
    const float h = 1e-2f;
    bert::for_each_tensor(ce.params(), [&](const std::string& name, auto& buf) {
        const auto& g = grads[t];
        auto w = buf.to_host();
        // indices: a few spread over the tensor (for word embeddings: rows of used and unused ids)
        std::vector<std::size_t> at;
        if (name.find("word_embeddings") != std::string::npos)
            at = {5 * 8 + 1, 36 * 8 + 7, 3 * 8 + 2, 20 * 8 + 4 /* id 20 unused: gradient 0 */};
        else if (name.find("position_embeddings") != std::string::npos)
            at = {0 * 8 + 3, 5 * 8 + 0, 8 * 8 + 6, 12 * 8 + 1 /* beyond every pair: 0 */};
        else
            for (std::size_t k = 0; k < 5; ++k) at.push_back((k * 7919 + t * 31) % w.size());
        for (const auto i : at) {
            const float keep = w[i];
            w[i] = keep + h;
            buf.assign(w);
            const double up = loss_of(ce, pairs);
            w[i] = keep - h;
            buf.assign(w);
            const double down = loss_of(ce, pairs);
            w[i] = keep;
            buf.assign(w);
            const double numeric = (up - down) / (2.0 * h);
            INFO(name << "[" << i << "]: backward " << g[i] << ", finite difference " << numeric);
            CHECK(std::abs(g[i] - numeric) <= 2e-3 + 2e-2 * std::abs(numeric));
            ++checked;
        }
        ++t;
    });
    CHECK(t == 5 + 16 * 2 + 5);  // embeddings, 2 layers, head (pooler, classifier, retriever_weight: no gradient from the model alone)
    CHECK(checked > 150);
    CHECK(grads[0][20 * 8 + 4] == 0.0f);
}

TEST_CASE("gradient checkpointing gives identical gradients", "[bert][cross_encoder][checkpointing]") {
    cpu::context ctx;
    const auto dir = tiny_model("ce-ckpt");
    bert::cross_encoder<cpu::context> plain(ctx, dir, {.max_length = 12, .max_batch = 3});
    bert::cross_encoder<cpu::context> ckpt(ctx, dir, {.max_length = 12, .max_batch = 3, .checkpointing = true});
    const auto pairs = tiny_pairs();
    for (auto* ce : {&plain, &ckpt}) {
        bert::zero(ctx, ce->grads());
        (void)loss_of(*ce, pairs);
        ce->backward(loss_weights);
        (void)loss_of(*ce, pairs);  // accumulates a second time
        ce->backward(loss_weights);
    }
    const auto a = all_grads(plain), b = all_grads(ckpt);
    REQUIRE(a.size() == b.size());
    double norm = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        REQUIRE(a[i] == b[i]);
        for (float x : a[i]) norm += double(x) * x;
    }
    CHECK(norm > 0.0);
}

TEST_CASE("cross-encoder training in bf16 and f16 stays close to f32 and rounds the linears", "[bert][cross_encoder][mixed]") {
    cpu::context ctx;
    const auto dir = tiny_model("ce-mixed");
    const auto pairs = tiny_pairs();
    const auto run = [&](dtype t, std::vector<float>& logits, bool checkpointing = false) {
        bert::cross_encoder<cpu::context> ce(ctx, dir, {.max_length = 12, .max_batch = 3, .checkpointing = checkpointing, .compute = t});
        bert::zero(ctx, ce.grads());
        logits = ce.forward_logits(pairs);
        ce.backward(loss_weights);
        std::vector<float> all;
        for (const auto& g : all_grads(ce)) all.insert(all.end(), g.begin(), g.end());
        return all;
    };
    std::vector<float> l32, l16;
    const auto g32 = run(dtype::f32, l32);
    for (dtype t : {dtype::bf16, dtype::f16}) {
        INFO(dtype_name(t));
        const auto g = run(t, l16);
        double diff = 0, norm = 0, ldiff = 0;
        for (std::size_t i = 0; i < g.size(); ++i) diff += std::pow(double(g[i]) - g32[i], 2), norm += double(g32[i]) * g32[i];
        for (std::size_t i = 0; i < l16.size(); ++i) ldiff = std::max(ldiff, std::abs(double(l16[i]) - l32[i]));
        INFO("gradient relative error " << std::sqrt(diff / norm) << ", largest logit difference " << ldiff);
        CHECK(std::sqrt(diff / norm) < 3e-2);
        CHECK(ldiff < 3e-2);
        CHECK(diff > 0);  // the products really ran in 16 bits
        std::vector<float> lc;
        CHECK(run(t, lc, true) == g);  // checkpointing recomputes in the same type: identical gradients
    }
    CHECK_THROWS_AS(bert::cross_encoder<cpu::context>(ctx, dir, {.max_length = 12, .compute = dtype::i32}), config_error);
}

TEST_CASE("a pair's logit does not depend on the padding of its batch", "[bert][cross_encoder]") {
    cpu::context ctx;
    const auto dir = tiny_model("ce-pad");
    bert::cross_encoder<cpu::context> ce(ctx, dir, {.max_length = 12, .max_batch = 3});
    const auto pairs = tiny_pairs();
    const auto together = ce.forward_logits(pairs);
    const auto scored = ce.score(pairs);
    for (std::size_t i = 0; i < pairs.size(); ++i) {
        const auto alone = ce.forward_logits(std::vector<tokenizers::encoding>{pairs[i]});
        CHECK(std::abs(alone[0] - together[i]) <= 1e-5 * (1 + std::abs(alone[0])));
        CHECK(std::abs(scored[i] - together[i]) <= 1e-5 * (1 + std::abs(alone[0])));
    }
}

TEST_CASE("the training forward on all-MiniLM-L6-v2 matches the golden CLS states", "[bert][cross_encoder][golden]") {
    cpu::context ctx;
    bert::cross_encoder<cpu::context> ce(ctx, minilm(), {.max_length = 256, .max_batch = 4});
    CHECK(ce.head_fresh());  // all-MiniLM-L6-v2 has a pooler but no classifier: fresh head
    bert::encoder<cpu::context, bert::cls_pooling> enc(ctx, minilm());
    std::ifstream in(test::source_dir() + "/tests/golden/bert_minilm_texts.jsonl");
    std::vector<tokenizers::encoding> texts;
    for (std::string line; texts.size() < 4 && std::getline(in, line);)
        texts.push_back(enc.tokenize(nlohmann::json::parse(line).at("text").get<std::string>()));
    REQUIRE(texts.size() == 4);
    std::ifstream gf(test::source_dir() + "/tests/golden/bert_minilm_cls.f32", std::ios::binary);
    std::vector<float> want(4 * 384);
    gf.read(reinterpret_cast<char*>(want.data()), static_cast<std::streamsize>(want.size() * 4));
    REQUIRE(gf.good());
    // training forward (backward.hpp) vs inference forward (forward.hpp), through the head
    const auto logits = ce.forward_logits(texts);
    const auto scored = ce.score(texts);
    for (std::size_t i = 0; i < 4; ++i) CHECK(std::abs(logits[i] - scored[i]) <= 1e-4 * (1 + std::abs(scored[i])));

    // direct check of the body: forward_train's CLS rows vs the golden file (cosine >= 0.9999)
    auto acts_train = bert::allocate_train_activations(ctx, ce.model_config(), 4 * 256, 256, false);
    std::int64_t seq = 0;
    for (const auto& t : texts) seq = std::max<std::int64_t>(seq, static_cast<std::int64_t>(t.ids.size()));
    std::vector<std::int32_t> ids(static_cast<std::size_t>(4 * seq), 0), types(ids.size(), 0), valid(4);
    for (std::size_t b = 0; b < 4; ++b) {
        std::copy(texts[b].ids.begin(), texts[b].ids.end(), ids.begin() + static_cast<std::ptrdiff_t>(b * seq));
        valid[b] = static_cast<std::int32_t>(texts[b].ids.size());
    }
    bert::forward_train(ctx, ce.model_config(), ce.params().body, acts_train, ids.data(), types.data(), valid.data(), 4, seq);
    const auto out = acts_train.out.to_host();
    for (std::size_t b = 0; b < 4; ++b) {
        const float* got = out.data() + b * static_cast<std::size_t>(seq) * 384;
        const float* w = want.data() + b * 384;
        double ab = 0, aa = 0, bb = 0;
        for (int c = 0; c < 384; ++c) ab += double(got[c]) * w[c], aa += double(got[c]) * got[c], bb += double(w[c]) * w[c];
        INFO("text " << b);
        CHECK(ab / std::sqrt(aa * bb) >= 0.9999);
    }
}

TEST_CASE("a saved cross-encoder folder loads back to the same logits", "[bert][cross_encoder][io]") {
    cpu::context ctx;
    const auto dir = tiny_model("ce-save", false);
    bert::cross_encoder<cpu::context> ce(ctx, dir, {.max_length = 12, .max_batch = 3, .seed = 5});
    CHECK(ce.head_fresh());
    const auto pairs = tiny_pairs();
    const auto before = ce.score(pairs);
    const auto out = test::fresh_dir("ce-saved");
    ce.save(out);
    bert::cross_encoder<cpu::context> back(ctx, out, {.max_length = 12, .max_batch = 3, .train = false});
    CHECK_FALSE(back.head_fresh());
    CHECK(back.score(pairs) == before);
    const auto cfg = nlohmann::json::parse(test::slurp(out / "config.json"));
    CHECK(cfg.at("architectures")[0] == "BertForSequenceClassification");
}

TEST_CASE("a classifier with two labels is refused naming the tensor", "[bert][cross_encoder][errors]") {
    cpu::context ctx;
    const auto dir = tiny_model("ce-two", true, 2);
    try {
        bert::cross_encoder<cpu::context> ce(ctx, dir, {.max_length = 12, .max_batch = 3});
        FAIL("a two-label classifier loaded");
    } catch (const config_error& e) {
        CHECK_THAT(e.what(), Catch::Contains("classifier.weight") && Catch::Contains("one output label"));
    }
}
