// Score fusion of the reranker (components/reranker.hpp): with a zero classifier the fused score
// logit + w * retriever score ranks exactly like the retriever; d loss / d w and d loss / d (classifier
// weight 0) of train_group match central finite differences for every loss policy; fusion groups
// (make_retrieval_groups) carry aligned scores, gold positives only when retrieved, hard negatives
// first; a group without scores is refused; w is saved in model.safetensors and fusion with w = 0 is refused.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "hoprag/components/reranker.hpp"
#include "hoprag/cpu/backend.hpp"
#include "models/cross_encoder_tiny.hpp"
#include "support/files.hpp"
#include "support/reference.hpp"

using namespace hoprag;
namespace comp = hoprag::components;

namespace {

data::hotpot_record record() {
    data::hotpot_record r;
    r.id = "q-fusion";
    r.question = "Which city hosts the museum?";
    for (const char* t : {"A", "Gold1", "B", "Gold2"}) r.context.push_back({t, {std::string(t) + " text."}});
    r.supporting_facts = {{"Gold1", 0}, {"Gold2", 0}};
    return r;
}

}  // namespace

TEST_CASE("fusion with a zero classifier ranks exactly like the retriever", "[reranker][fusion]") {
    cpu::context ctx;
    const auto dir = test::tiny_model("rr_fusion_order", true, 1, 30522);
    comp::reranker<comp::softmax_loss, cpu::backend> rr(ctx, dir, {.max_length = 32, .max_batch = 8, .train = false});
    // scores deliberately not in file order, all distinct
    const auto sc = test::random_floats(9, 7, 0.1f, 0.9f);
    std::vector<data::passage> retrieved;
    for (std::size_t i = 0; i < sc.size(); ++i)
        retrieved.push_back({.title = "T" + std::to_string(i), .text = "passage number " + std::to_string(i) + " about city " + std::to_string(i * 7), .score = sc[i]});
    std::vector<std::size_t> want(sc.size());
    std::iota(want.begin(), want.end(), std::size_t{0});
    std::stable_sort(want.begin(), want.end(), [&](auto a, auto b) { return sc[a] > sc[b]; });
    const auto titles = [](const std::vector<data::passage>& ps) {
        std::vector<std::string> t;
        for (const auto& p : ps) t.push_back(p.title);
        return t;
    };
    std::vector<std::string> want_titles;
    for (const auto i : want) want_titles.push_back(retrieved[i].title);

    // the random head alone gives distinct logits (an order of its own)
    const auto plain = rr.rerank("which city?", retrieved, retrieved.size());
    CHECK(plain.front().score != plain.back().score);

    rr.set_retriever_weight(20.0f);
    rr.zero_classifier();
    const auto fused = rr.rerank("which city?", retrieved, retrieved.size());
    CHECK(titles(fused) == want_titles);
    for (std::size_t k = 0; k < fused.size(); ++k) CHECK(fused[k].score == Approx(20.0 * sc[want[k]]).epsilon(1e-6));
    // only the first `top` are reranked
    const auto top4 = rr.rerank("which city?", retrieved, 4);
    REQUIRE(top4.size() == 4);
    for (const auto& p : top4) CHECK(p.title < "T4");
}

TEST_CASE("fusion gradients of w and of a classifier weight match finite differences", "[reranker][fusion]") {
    cpu::context ctx;
    const auto dir = test::tiny_model("rr_fusion_grad", true, 1, 30522);
    const data::training_group g{"which city hosts it?",
                                 {.title = "Gold", .text = "the gold passage names the city", .score = 0.61f},
                                 {{.title = "N1", .text = "a negative passage", .score = 0.72f},
                                  {.title = "N2", .text = "another one here", .score = 0.40f},
                                  {.title = "N3", .text = "third", .score = 0.55f}},
                                 true};
    const auto run = [&]<class Loss>(Loss) {
        comp::reranker<Loss, cpu::backend> rr(ctx, dir, {.max_length = 32, .max_batch = 8});
        auto& m = rr.model();
        const float w0 = 3.0f;
        auto cls_w = m.params().head.cls_w.to_host();
        const float b0 = cls_w[0];
        const auto loss_at = [&](float w, float b) {  // b: classifier weight 0
            rr.set_retriever_weight(w);
            cls_w[0] = b;
            m.params().head.cls_w.assign(cls_w);
            return rr.train_group(g);
        };
        const auto w_grad = [&] { return m.grads().head.retriever_weight.to_host()[0]; };
        models::bert::zero(ctx, m.grads());
        loss_at(w0, b0);
        const double dw = w_grad(), db = m.grads().head.cls_w.to_host()[0];
        const float h = 5e-2f;
        const double num_w = (loss_at(w0 + h, b0) - loss_at(w0 - h, b0)) / (2.0 * h);
        const double num_b = (loss_at(w0, b0 + h) - loss_at(w0, b0 - h)) / (2.0 * h);
        INFO(Loss::name << ": dw " << dw << " vs " << num_w << ", db " << db << " vs " << num_b);
        CHECK(std::abs(dw) > 1e-3);
        CHECK(std::abs(db) > 1e-4);
        CHECK(dw == Approx(num_w).epsilon(5e-3).margin(1e-5));
        CHECK(db == Approx(num_b).epsilon(5e-3).margin(1e-5));
        // the group weight scales the w gradient; fusion off leaves it untouched
        models::bert::zero(ctx, m.grads());
        loss_at(w0, b0);
        const double one = w_grad();
        models::bert::zero(ctx, m.grads());
        rr.set_retriever_weight(w0);
        rr.train_group(g, 0.5f);
        CHECK(w_grad() == Approx(0.5 * one).epsilon(1e-6));
        models::bert::zero(ctx, m.grads());
        rr.set_retriever_weight(0.0f);
        rr.train_group(g);
        CHECK(w_grad() == 0.0f);
    };
    run(comp::softmax_loss{});
    run(comp::margin_loss{});
    run(comp::bce_loss{});
}

TEST_CASE("fusion needs the retriever score of every pair", "[reranker][fusion][errors]") {
    cpu::context ctx;
    const auto dir = test::tiny_model("rr_fusion_err", true, 1, 30522);
    comp::reranker<comp::softmax_loss, cpu::backend> rr(ctx, dir, {.max_length = 32, .max_batch = 8});
    rr.set_retriever_weight(5.0f);
    const data::training_group g{"q", {.title = "Gold", .text = "gold"}, {{.title = "N1", .text = "n"}}};
    try {
        rr.train_group(g);
        FAIL("a group without scores was accepted");
    } catch (const config_error& e) {
        CHECK_THAT(e.what(), Catch::Contains("make_retrieval_groups"));
    }
}

TEST_CASE("fusion groups: retrieved gold positives, hard negatives first, aligned scores", "[reranker][fusion][groups]") {
    const auto r = record();
    const std::vector<data::passage> retrieved{{.title = "X1", .text = "x1", .score = 0.95f}, {.title = "Gold1", .text = "g1", .score = 0.9f}, {.title = "X1", .text = "x1 again", .score = 0.89f},
                                                      {.title = "X2", .text = "x2", .score = 0.8f},  {.title = "X3", .text = "x3", .score = 0.7f},  {.title = "X4", .text = "x4", .score = 0.6f},
                                                      {.title = "X5", .text = "x5", .score = 0.5f},  {.title = "Gold2", .text = "g2", .score = 0.4f}};
    const auto g = data::make_retrieval_groups(r, retrieved, 7, {.negatives = 3, .from_retrieval = 2, .seed = 3});
    REQUIRE(g.size() == 1);  // Gold2 is ranked 8th, outside the top 7
    CHECK(g[0].positive.title == "Gold1");
    CHECK(g[0].positive.text == "g1");
    REQUIRE(g[0].negatives.size() == 3);
    REQUIRE(g[0].retriever_scored);
    CHECK(g[0].positive.score == 0.9f);
    CHECK(g[0].negatives[0].title == "X1");  // the two hardest, in order; titles once
    CHECK(g[0].negatives[0].text == "x1");
    CHECK(g[0].negatives[1].title == "X2");
    CHECK((g[0].negatives[2].title == "X3" || g[0].negatives[2].title == "X4" || g[0].negatives[2].title == "X5"));
    for (std::size_t k = 0; k < 3; ++k)
        for (const auto& p : retrieved)
            if (p.title == g[0].negatives[k].title && p.text == g[0].negatives[k].text) CHECK(g[0].negatives[k].score == p.score);
    const auto all = data::make_retrieval_groups(r, retrieved, 20, {.negatives = 3, .from_retrieval = 2, .seed = 3});
    REQUIRE(all.size() == 2);
    CHECK(all[1].positive.title == "Gold2");
    CHECK(all[1].positive.score == 0.4f);
    // deterministic for a seed, and the random third negative varies with it
    CHECK(data::make_retrieval_groups(r, retrieved, 7, {.negatives = 3, .from_retrieval = 2, .seed = 3})[0].negatives[2].title ==
          g[0].negatives[2].title);
    std::set<std::string> thirds;
    for (std::uint64_t s = 0; s < 16; ++s)
        thirds.insert(data::make_retrieval_groups(r, retrieved, 7, {.negatives = 3, .from_retrieval = 2, .seed = s})[0].negatives[2].title);
    CHECK(thirds.size() > 1);
    // no negatives in the top: no group
    CHECK(data::make_retrieval_groups(r, {{.title = "Gold1", .text = "g", .score = 0.9f}}, 20, {}).empty());
}

TEST_CASE("the retriever weight is saved in model.safetensors and fusion needs a non-zero one", "[reranker][fusion][files]") {
    cpu::context ctx;
    const auto src = test::tiny_model("rr_fusion_save", true, 1, 30522);
    const auto dir = test::fresh_dir("rr_fusion_saved");
    {
        comp::reranker<comp::softmax_loss, cpu::backend> rr(ctx, src, {.max_length = 32, .max_batch = 4, .train = false});
        CHECK(rr.retriever_weight() == 0.0f);  // absent from the source file: 0
        CHECK_FALSE(rr.model().head_fresh());  // and the head is not fresh for it
        CHECK_THROWS_AS(rr.use_fusion(true, src), config_error);
        rr.set_retriever_weight(17.25f);
        rr.model().save(dir / "fused");
    }
    const io::safetensors_checkpoint ck(dir / "fused");
    REQUIRE(ck.find("retriever_weight") != nullptr);
    CHECK(ck.at("retriever_weight").to_f32() == std::vector<float>{17.25f});
    comp::reranker<comp::softmax_loss, cpu::backend> back(ctx, dir / "fused", {.max_length = 32, .max_batch = 4, .train = false});
    CHECK(back.retriever_weight() == 17.25f);
    back.use_fusion(true, dir / "fused");
    CHECK(back.retriever_weight() == 17.25f);
    back.use_fusion(false, dir / "fused");  // scoring without fusion: w = 0
    CHECK(back.retriever_weight() == 0.0f);
}
