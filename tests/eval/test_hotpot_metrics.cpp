// Official HotpotQA metrics: a hand-checked case for every rule (normalisation: case, punctuation,
// articles, whitespace; yes/no/noanswer; empty answers; Counter-style token overlap; sp sets with
// duplicates; joint products; missing predictions; unknown ids), prediction-file errors, and a
// golden check against tests/golden/make_hotpot_metrics_golden.py (the official rules in Python)
// on a perturbed prediction file for the 940-question dev sample, to 1e-9.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <fstream>
#include <string>

#include "hoprag/data/hotpotqa.hpp"
#include "hoprag/eval/hotpot_metrics.hpp"
#include "hoprag/eval/hotpot_predictions_io.hpp"
#include "support/reference.hpp"

using namespace hoprag;
using namespace hoprag::eval;
using data::supporting_fact;
using Catch::Detail::Approx;

TEST_CASE("hotpot metrics: normalize_answer", "[eval][hotpot]") {
    CHECK(normalize_answer("The Lady") == "lady");
    CHECK(normalize_answer("  Arthur's   Magazine!! ") == "arthurs magazine");
    CHECK(normalize_answer("a an the") == "");
    CHECK(normalize_answer("theatre anand") == "theatre anand");  // articles only as whole words
    CHECK(normalize_answer("U.S.A.") == "usa");
    CHECK(normalize_answer("rock-and-roll") == "rockandroll");
    CHECK(normalize_answer("A.P. Møller") == "ap møller");
    CHECK(normalize_answer("JÜRGEN") == "jürgen");
    CHECK(normalize_answer("26–the–30") == "26– –30");  // en dash is not ASCII punctuation
    CHECK(normalize_answer("x\xC2\xA0the\tY") == "x y");  // NBSP and tab are whitespace
    CHECK(normalize_answer("") == "");
}

TEST_CASE("hotpot metrics: answer scores by hand", "[eval][hotpot]") {
    auto s = score_answer("the Lady.", "The Lady");
    CHECK(s.em == 1.0);
    CHECK(s.f1 == 1.0);
    // pred tokens {new, york, city} vs gold {new, york}: prec 2/3, recall 1, f1 0.8
    s = score_answer("New York City", "new york");
    CHECK(s.em == 0.0);
    CHECK(s.prec == Approx(2.0 / 3));
    CHECK(s.recall == 1.0);
    CHECK(s.f1 == Approx(0.8));
    // Counter intersection: "a a b" style with repeats -> min counts ("x x x y" vs "x y y": 1 x + 1 y)
    s = score_answer("x x x y", "x y y");
    CHECK(s.prec == Approx(0.5));
    CHECK(s.recall == Approx(2.0 / 3));
    // yes/no/noanswer: zero F1 when they differ, even with overlapping tokens
    s = score_answer("yes", "no");
    CHECK((s.em == 0 && s.f1 == 0 && s.prec == 0 && s.recall == 0));
    s = score_answer("Yes.", "yes");
    CHECK((s.em == 1 && s.f1 == 1));
    s = score_answer("noanswer", "noanswer city");
    CHECK(s.f1 == 0.0);
    s = score_answer("yes city", "yes");
    CHECK(s.f1 == 0.0);
    // empty: both empty -> EM 1 but F1 0 (official: no shared token)
    s = score_answer("", "the");
    CHECK(s.em == 1.0);
    CHECK(s.f1 == 0.0);
    s = score_answer("", "Paris");
    CHECK((s.em == 0 && s.f1 == 0));
}

TEST_CASE("hotpot metrics: supporting facts and joint by hand", "[eval][hotpot]") {
    const std::vector<supporting_fact> gold = {{"A", 0}, {"B", 1}, {"B", 1}};  // gold set {A0, B1}
    auto s = score_supporting_facts({{"A", 0}, {"A", 0}, {"B", 1}}, gold);   // duplicates collapse
    CHECK((s.em == 1 && s.f1 == 1 && s.prec == 1 && s.recall == 1));
    s = score_supporting_facts({{"A", 0}, {"C", 2}, {"C", 2}}, gold);  // set {A0, C2}: tp 1 fp 1 fn 1
    CHECK(s.em == 0.0);
    CHECK(s.prec == 0.5);
    CHECK(s.recall == 0.5);
    CHECK(s.f1 == 0.5);
    s = score_supporting_facts({}, gold);
    CHECK((s.em == 0 && s.prec == 0 && s.recall == 0 && s.f1 == 0));
    s = score_supporting_facts({}, {});
    CHECK(s.em == 1.0);
    CHECK(s.f1 == 0.0);
    const auto j = joint_score({1, 0.8, 2.0 / 3, 1}, {0, 0.5, 0.5, 0.5});
    CHECK(j.em == 0.0);
    CHECK(j.prec == Approx(1.0 / 3));
    CHECK(j.recall == Approx(0.5));
    CHECK(j.f1 == Approx(2 * (1.0 / 3) * 0.5 / (1.0 / 3 + 0.5)));
}

TEST_CASE("hotpot metrics: averages over all gold, missing and unknown ids", "[eval][hotpot]") {
    std::vector<data::hotpot_record> gold(3);
    gold[0].id = "q0", gold[0].answer = "Paris", gold[0].type = "bridge", gold[0].supporting_facts = {{"P", 0}};
    gold[1].id = "q1", gold[1].answer = "yes", gold[1].type = "comparison", gold[1].supporting_facts = {{"Q", 1}};
    gold[2].id = "q2", gold[2].answer = "Rome", gold[2].type = "bridge", gold[2].supporting_facts = {{"R", 0}};
    hotpot_predictions p;
    p.answer = {{"q0", "paris"}, {"q1", "yes"}, {"zz", "stray"}};  // q2 answer missing
    p.sp = {{"q0", {{"P", 0}}}, {"q2", {{"R", 0}}}, {"zz", {}}, {"yy", {}}};  // q1 sp missing
    const auto r = evaluate_hotpot(gold, p);
    CHECK(r.overall.questions == 3);
    CHECK(r.overall.answer.em == Approx(2.0 / 3));
    CHECK(r.overall.sp.em == Approx(2.0 / 3));
    CHECK(r.overall.joint.em == Approx(1.0 / 3));  // only q0 has both
    CHECK(r.missing_answer == 1);
    CHECK(r.missing_sp == 1);
    CHECK(r.unknown_answer_ids == 1);
    CHECK(r.unknown_sp_ids == 2);
    CHECK(r.unknown_id_examples == std::vector<std::string>{"yy", "zz"});
    REQUIRE(r.by_type.count("bridge"));
    CHECK(r.by_type.at("bridge").questions == 2);
    CHECK(r.by_type.at("bridge").answer.em == Approx(0.5));
    CHECK(r.by_type.at("comparison").answer.em == 1.0);
    CHECK(r.by_type.at("comparison").joint.em == 0.0);
    // an empty prediction set scores zero everywhere, no crash
    const auto z = evaluate_hotpot(gold, {});
    CHECK(z.overall.joint.f1 == 0.0);
    CHECK(z.missing_answer == 3);
}

TEST_CASE("hotpot metrics: prediction file errors", "[eval][hotpot]") {
    CHECK_THROWS_WITH(parse_hotpot_predictions("{\"answer\": {}}", "p.json"), Catch::Contains("\"sp\""));
    CHECK_THROWS_WITH(parse_hotpot_predictions("[1]", "p.json"), Catch::Contains("expected a JSON object"));
    CHECK_THROWS_WITH(parse_hotpot_predictions("{\"answer\": {", "p.json"), Catch::Contains("invalid JSON"));
    CHECK_THROWS_WITH(parse_hotpot_predictions(R"({"answer": {"q": 3}, "sp": {}})", "p.json"),
                      Catch::Contains("answer of id \"q\" is a number"));
    CHECK_THROWS_WITH(parse_hotpot_predictions(R"({"answer": {}, "sp": {"q": [["T", "1"]]}})", "p.json"),
                      Catch::Contains("sp of id \"q\" entry 0"));
    const auto p = parse_hotpot_predictions(R"({"answer": {"q": "x"}, "sp": {"q": [["T", 1], ["T", 1]]}})", "p.json");
    CHECK(p.sp.at("q").size() == 2);
}

TEST_CASE("hotpot metrics: golden numbers from the official rules on the dev sample", "[eval][hotpot][golden]") {
    const auto gold = data::load_all(test::source_dir() + "/../shared/data/hotpotqa/hotpot_dev_sample.jsonl");
    const auto pred = read_hotpot_predictions(test::source_dir() + "/tests/golden/hotpot_dev_predictions.json");
    std::ifstream in(test::source_dir() + "/tests/golden/hotpot_dev_metrics.json");
    const auto want = nlohmann::json::parse(in);
    const auto rep = evaluate_hotpot(gold, pred);
    auto check = [](const hotpot_scores& got, const nlohmann::json& w, const std::string& name) {
        INFO(name);
        CHECK(got.questions == w["n"].get<std::size_t>());
        const std::pair<const char*, double> rows[] = {
            {"em", got.answer.em},       {"f1", got.answer.f1},       {"prec", got.answer.prec},
            {"recall", got.answer.recall}, {"sp_em", got.sp.em},     {"sp_f1", got.sp.f1},
            {"sp_prec", got.sp.prec},    {"sp_recall", got.sp.recall}, {"joint_em", got.joint.em},
            {"joint_f1", got.joint.f1},  {"joint_prec", got.joint.prec}, {"joint_recall", got.joint.recall}};
        for (const auto& [key, value] : rows) {
            INFO(key << ": got " << value << " want " << w[key].get<double>());
            CHECK(std::abs(value - w[key].get<double>()) <= 1e-9);
        }
    };
    check(rep.overall, want["all"], "all");
    check(rep.by_type.at("bridge"), want["bridge"], "bridge");
    check(rep.by_type.at("comparison"), want["comparison"], "comparison");
    CHECK(rep.missing_answer == want["missing_answer"].get<std::size_t>());
    CHECK(rep.missing_sp == want["missing_sp"].get<std::size_t>());
    CHECK(rep.unknown_answer_ids == want["unknown_answer_ids"].get<std::size_t>());
    CHECK(rep.unknown_sp_ids == want["unknown_sp_ids"].get<std::size_t>());
    // The golden file's scores are not trivial: some but not all answers are right.
    CHECK(rep.overall.answer.em > 0.2);
    CHECK(rep.overall.answer.em < 0.8);
    std::size_t n = 0;
    for (const auto& [text, normalized] : want["normalized"].items()) {
        INFO("normalize_answer(\"" << text << "\")");
        CHECK(normalize_answer(text) == normalized.get<std::string>());
        ++n;
    }
    CHECK(n > 20);
}
