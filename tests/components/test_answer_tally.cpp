// answer_tally (components/answer_tally.hpp) by hand: counts, scoring only labelled questions,
// and abstention precision/recall from which shown contexts held a supporting passage.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "hoprag/components/answer_tally.hpp"

using namespace hoprag;

namespace {

data::hotpot_record labelled(const std::string& id, const std::string& answer) {
    data::hotpot_record r;
    r.id = id, r.question = "q " + id, r.answer = answer, r.type = "bridge", r.level = "easy";
    r.context = {{"G", {"g0."}}, {"N", {"n0."}}};
    r.supporting_facts = {{"G", 0}};
    return r;
}

components::answer_result result(const std::string& line, bool insufficient, bool gold_shown) {
    components::answer_result a;
    a.line = line;
    a.prediction.insufficient = insufficient;
    if (!insufficient) a.prediction.answer = line.substr(0, line.find(" ["));
    a.shown = {{.title = gold_shown ? "G" : "N", .last_sent = 0, .gold = gold_shown}};
    a.prompt_tokens = 10;
    return a;
}

}  // namespace

TEST_CASE("answer_tally: counts, labelled-only scoring, abstention precision and recall", "[components][tally]") {
    std::vector<data::hotpot_record> records{labelled("a", "Paris"), labelled("b", "Rome"), labelled("c", "Oslo"), labelled("d", "Bern")};
    data::hotpot_record unlabelled;
    unlabelled.id = "e", unlabelled.question = "?", unlabelled.context = {{"N", {"n0."}}};
    records.push_back(unlabelled);
    components::answer_tally t;
    t.add("a", result("Paris [1]", false, true));             // right, cited gold
    t.add("b", result("insufficient context", true, false));  // abstained, rightly
    t.add("c", result("insufficient context", true, true));   // abstained with gold shown
    t.add("d", result("Lima [1]", false, false));             // answered without gold shown
    t.add("e", result("Oslo [1]", false, false));             // unlabelled: answered, not scored
    const auto c = t.counts();
    CHECK(c.at("answered") == 3);
    CHECK(c.at("insufficient") == 2);
    CHECK(c.at("prompt_tokens_mean").get<double>() == 10.0);
    const auto q = t.quality(records);
    CHECK(q.at("scored_questions") == 4);
    CHECK(q.at("metrics").at("em").get<double>() == Approx(0.25));
    CHECK(q.at("supported_answer_rate").get<double>() == Approx(0.25));
    CHECK(q.at("abstentions") == 2);
    CHECK(q.at("contexts_without_gold") == 2);                          // b and d
    CHECK(q.at("abstention_precision").get<double>() == Approx(0.5));  // b of {b, c}
    CHECK(q.at("abstention_recall").get<double>() == Approx(0.5));     // b of {b, d}
    CHECK(t.quality({unlabelled}).at("scored_questions") == 0);
    CHECK_FALSE(t.quality({unlabelled}).contains("metrics"));
}
