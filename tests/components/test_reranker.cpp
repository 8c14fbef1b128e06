// Reranker tests: each loss policy (margin, softmax, bce) vs a float64 reference written here and
// its gradient vs central finite differences, on random groups of several sizes (incl. a single
// negative and hinge terms on both sides of the margin); group construction (positives = gold
// paragraphs, negatives never gold, retrieval first, distractors next, deterministic); the held-out
// split rule; retrieval-file errors; AdamW steps of reranker::train_group on all-MiniLM-L6-v2 lower a group's loss.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "hoprag/components/reranker.hpp"
#include "hoprag/data/ranked_passage_file.hpp"
#include "hoprag/cpu/backend.hpp"
#include "models/cross_encoder_tiny.hpp"
#include "support/files.hpp"
#include "support/reference.hpp"

using namespace hoprag;
namespace comp = hoprag::components;

namespace {

double ref_margin(const std::vector<double>& s) {
    double l = 0;
    for (std::size_t j = 1; j < s.size(); ++j) l += std::max(0.0, 1.0 - (s[0] - s[j]));
    return l / double(s.size() - 1);
}
double ref_softmax(const std::vector<double>& s) {
    double z = 0;
    for (double v : s) z += std::exp(v);
    return std::log(z) - s[0];
}
double ref_bce(const std::vector<double>& s) {
    double l = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const double p = 1.0 / (1.0 + std::exp(-s[i]));
        l -= i == 0 ? std::log(p) : std::log(1.0 - p);
    }
    return l / double(s.size());
}

template <class Loss>
void check_loss(const Loss& loss, double (*ref)(const std::vector<double>&)) {
    for (const std::size_t n : {2u, 3u, 5u, 9u})
        for (std::uint64_t seed = 1; seed <= 4; ++seed) {
            const auto s = test::random_floats(n, seed, -3.0f, 3.0f, n);
            std::vector<float> ds(n);
            const double got = loss.group(s, ds);
            const auto sd = test::to_double(s);
            INFO(Loss::name << " group of " << n << " seed " << seed);
            CHECK(std::abs(got - ref(sd)) <= 1e-6 * (1 + std::abs(ref(sd))));
            const auto num = test::numeric_gradient(sd, ref, 1e-6);
            test::require_close(ds, num, 1e-4, 1e-6, std::string(Loss::name) + " gradient");
        }
}

data::hotpot_record record() {
    data::hotpot_record r;
    r.id = "q1";
    r.question = "Which city?";
    for (const char* t : {"A", "Gold1", "B", "C", "Gold2", "D"}) r.context.push_back({t, {std::string(t) + " text.", " More."}});
    r.supporting_facts = {{"Gold1", 0}, {"Gold2", 1}, {"Gold1", 1}};
    return r;
}

}  // namespace

TEST_CASE("margin loss matches a float64 reference and finite differences", "[reranker][loss]") {
    check_loss(comp::margin_loss{}, ref_margin);
    // both sides of the hinge: a satisfied margin gives no loss and no gradient
    std::vector<float> ds(2);
    CHECK(comp::margin_loss{}.group(std::vector<float>{3.0f, 1.5f}, ds) == 0.0);
    CHECK(ds == std::vector<float>{0.0f, 0.0f});
    CHECK(comp::margin_loss{}.group(std::vector<float>{1.0f, 1.5f}, ds) == Approx(1.5));
    CHECK(ds == std::vector<float>{-1.0f, 1.0f});
}

TEST_CASE("softmax loss matches a float64 reference and finite differences", "[reranker][loss]") {
    check_loss(comp::softmax_loss{}, ref_softmax);
    std::vector<float> ds(3);  // large logits stay finite
    CHECK(std::isfinite(comp::softmax_loss{}.group(std::vector<float>{900.0f, 1000.0f, -5.0f}, ds)));
    CHECK(ds[1] == Approx(1.0));
}

TEST_CASE("bce loss matches a float64 reference and finite differences", "[reranker][loss]") {
    check_loss(comp::bce_loss{}, ref_bce);
    std::vector<float> ds(2);
    CHECK(std::isfinite(comp::bce_loss{}.group(std::vector<float>{-200.0f, 200.0f}, ds)));
}

TEST_CASE("groups: gold positives, non-gold negatives, retrieval first", "[reranker][groups]") {
    const auto r = record();
    const std::vector<data::passage> retrieved{{.title = "Gold1", .text = "x", .score = 0.9f}, {.title = "Far", .text = "far text", .score = 0.8f}, {.title = "C", .text = "c", .score = 0.7f},
                                                      {.title = "Other", .text = "o", .score = 0.6f}};
    const auto g = data::make_groups(r, &retrieved, {.negatives = 4, .from_retrieval = 2, .seed = 1});
    REQUIRE(g.size() == 2);
    CHECK(g[0].positive.title == "Gold1");
    CHECK(g[0].positive.text == "Gold1 text. More.");
    CHECK(g[1].positive.title == "Gold2");
    for (const auto& grp : g) {
        REQUIRE(grp.negatives.size() == 4);
        CHECK(grp.negatives[0].title == "Far");  // top retrieved non-gold
        CHECK(grp.negatives[1].title == "C");
        for (const auto& n : grp.negatives) CHECK((n.title != "Gold1" && n.title != "Gold2"));
        for (std::size_t i = 2; i < 4; ++i)  // then distractors of the question itself
            CHECK((grp.negatives[i].title == "A" || grp.negatives[i].title == "B" || grp.negatives[i].title == "D"));
    }
    // deterministic for a seed; no retrieval: distractors only
    CHECK(data::make_groups(r, &retrieved, {.negatives = 4, .seed = 1})[0].negatives[3].title == g[0].negatives[3].title);
    const auto d = data::make_groups(r, nullptr, {.negatives = 10, .seed = 2});
    REQUIRE(d.size() == 2);
    CHECK(d[0].negatives.size() == 4);  // A, B, C, D
}

TEST_CASE("a bad retrieval line is refused naming file and line", "[reranker][errors]") {
    const auto dir = test::fresh_dir("rerank-bad");
    std::ofstream(dir / "r.jsonl") << R"({"_id": "a", "passages": [{"title": "t", "chunk": "c", "score": 1}]})" << "\n"
                                   << R"({"_id": "b", "passages": [{"title": "t"}]})" << "\n";
    try {
        (void)data::read_ranked_passages(dir / "r.jsonl");
        FAIL("read");
    } catch (const format_error& e) {
        CHECK_THAT(e.what(), Catch::Contains("r.jsonl:2"));
    }
}

TEST_CASE("training steps on one group lower its loss for every loss policy", "[reranker][train]") {
    cpu::context ctx;
    const auto dir = test::minilm();  // real tokenizer ids need the real vocabulary
    const auto run = [&]<class Loss>(Loss) {
        comp::reranker<Loss, cpu::backend> rr(ctx, dir, {.max_length = 24, .max_batch = 4});
        data::training_group g{"q", {"Gold", "gold text"}, {{"N1", "n one"}, {"N2", "n two"}}};
        auto& m = rr.model();
        auto mm = models::bert::zero_cross_encoder_parameters(ctx, m.model_config());
        auto vv = models::bert::zero_cross_encoder_parameters(ctx, m.model_config());
        std::vector<std::string> names;
        const auto ts = comp::adamw_tensors(m.params(), m.grads(), mm, vv, names);
        double first = 0, last = 0;
        for (int step = 1; step <= 8; ++step) {
            models::bert::zero(ctx, m.grads());
            last = rr.train_group(g);
            if (step == 1) first = last;
            cpu::adamw_update(ctx, std::span<const train::adamw_tensor>(ts), train::make_adamw_step({}, step, 1e-4f));
        }
        INFO(Loss::name << ": " << first << " -> " << last);
        CHECK(last < first);
    };
    run(comp::margin_loss{});
    run(comp::softmax_loss{});
    run(comp::bce_loss{});
}
