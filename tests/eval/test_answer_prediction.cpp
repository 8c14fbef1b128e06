// eval/answer_prediction.hpp and the official prediction writer: generated answer lines become the
// answer text, the valid cited passages and their sentences as supporting facts; "insufficient
// context" and empty answers become empty predictions; the written file reads back equal and
// scores as expected under the official metrics.
#include <catch2/catch.hpp>

#include "hoprag/eval/answer_prediction.hpp"
#include "hoprag/eval/hotpot_predictions_io.hpp"
#include "support/files.hpp"

using namespace hoprag;

namespace {
const std::vector<data::passage> shown = {{.title = "Woman's Day", .last_sent = 2, .gold = true},
                                         {.title = "Tros", .last_sent = 1, .gold = false},
                                         {.title = "The Lady (magazine)", .last_sent = 1, .gold = true}};
}

TEST_CASE("predict_from_generation: text, citations, supporting sentences", "[answer]") {
    auto p = eval::predict_from_generation("The Lady [3], [1]\nmore text [2]", shown);
    CHECK(p.answer == "The Lady");
    CHECK(p.citations == std::vector<int>{3, 1});
    CHECK_FALSE(p.insufficient);
    CHECK(p.sp == std::vector<data::supporting_fact>{{"The Lady (magazine)", 0}, {"The Lady (magazine)", 1}, {"Woman's Day", 0},
                                                     {"Woman's Day", 1}, {"Woman's Day", 2}});
    // leading line breaks (the model opened the answer on a new line) are skipped
    p = eval::predict_from_generation("\n \nTros [2, 2] [7] [0]</answer>", shown);
    CHECK(p.answer == "Tros");
    CHECK(p.citations == std::vector<int>{2});
    CHECK(p.invalid_citations == 2);
    CHECK(p.sp == std::vector<data::supporting_fact>{{"Tros", 0}, {"Tros", 1}});
    p = eval::predict_from_generation("1931", shown);  // no citation: an answer without supporting facts
    CHECK(p.answer == "1931");
    CHECK(p.sp.empty());
}

TEST_CASE("predict_from_generation: insufficient context and empty answers", "[answer]") {
    for (const char* g : {"Insufficient context.", "insufficient context [1]", "", "\n\n", "[1], [3]", "I have insufficient   Context here"}) {
        INFO(g);
        const auto p = eval::predict_from_generation(g, shown);
        CHECK(p.insufficient);
        CHECK(p.answer.empty());
        CHECK(p.citations.empty());
        CHECK(p.sp.empty());
    }
}

TEST_CASE("written predictions read back equal and score by the official rules", "[answer]") {
    eval::hotpot_predictions pred;
    const auto a = eval::predict_from_generation("The Lady [3]", shown);
    pred.answer["q1"] = a.answer, pred.sp["q1"] = a.sp;
    const auto b = eval::predict_from_generation("insufficient context", shown);
    pred.answer["q2"] = b.answer, pred.sp["q2"] = b.sp;
    const auto dir = test::fresh_dir("answer_prediction");
    eval::write_hotpot_predictions(dir / "pred.json", pred);
    const auto back = eval::read_hotpot_predictions(dir / "pred.json");
    CHECK(back.answer == pred.answer);
    CHECK(back.sp == pred.sp);
    data::hotpot_record q1, q2;
    q1.id = "q1", q1.answer = "The Lady", q1.type = "comparison", q1.supporting_facts = {{"The Lady (magazine)", 0}, {"Woman's Day", 0}};
    q2.id = "q2", q2.answer = "1931", q2.type = "bridge", q2.supporting_facts = {{"Woman's Day", 1}};
    const auto rep = eval::evaluate_hotpot({q1, q2}, back);
    CHECK(rep.overall.answer.em == Approx(0.5));
    // q1: predicted {Lady 0, Lady 1}, gold {Lady 0, Day 0}: precision 1/2, recall 1/2, F1 1/2; q2: 0
    CHECK(rep.overall.sp.f1 == Approx(0.25));
    CHECK(rep.overall.joint.f1 == Approx(0.25));
    CHECK(test::slurp(dir / "pred.json") ==
          "{\"answer\":{\"q1\":\"The Lady\",\"q2\":\"\"},\"sp\":{\"q1\":[[\"The Lady (magazine)\",0],[\"The Lady (magazine)\",1]],\"q2\":[]}}\n");
}
