// Citation parsing, supported-answer rate and retrieval metrics, each checked by hand on small
// cases; and the hoprag-evaluate program run end to end on the dev sample (answers and retrieval),
// its JSON compared with the library's numbers and with hand-computed retrieval figures.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

#include "hoprag/data/hotpotqa.hpp"
#include "hoprag/eval/citations.hpp"
#include "hoprag/eval/hotpot_predictions_io.hpp"
#include "hoprag/eval/retrieval_metrics.hpp"
#include "support/reference.hpp"

using namespace hoprag;
using namespace hoprag::eval;
using Catch::Detail::Approx;

TEST_CASE("citations: parse answer text and cited numbers", "[eval][citations]") {
    auto c = parse_citations("<answer>Arthur's Magazine [1], [3]");
    CHECK(c.text == "Arthur's Magazine");
    CHECK(c.citations == std::vector<int>{1, 3});
    c = parse_citations("  <answer>yes [2][2, 5]</answer> ");
    CHECK(c.text == "yes");
    CHECK(c.citations == std::vector<int>{2, 5});
    c = parse_citations("Paris [4] is the answer");
    CHECK(c.text == "Paris is the answer");
    CHECK(c.citations == std::vector<int>{4});
    c = parse_citations("The [citation needed] band");  // not a citation group: kept
    CHECK(c.text == "The [citation needed] band");
    CHECK(c.citations.empty());
    c = parse_citations("<answer>");
    CHECK(c.text.empty());
    CHECK(c.citations.empty());
    c = parse_citations("[1]");
    CHECK(c.text.empty());
    CHECK(c.citations == std::vector<int>{1});
    c = parse_citations("Lyon [1], [");  // cut off by the token limit: the open group goes
    CHECK(c.text == "Lyon");
    CHECK(c.citations == std::vector<int>{1});
    c = parse_citations("Lyon[");
    CHECK(c.text == "Lyon");
    CHECK(c.citations.empty());
    c = parse_citations("yes [2], [1");  // its digits may be incomplete: not counted
    CHECK(c.text == "yes");
    CHECK(c.citations == std::vector<int>{2});
    c = parse_citations("a [b");  // not digits: kept as text
    CHECK(c.text == "a [b");
    CHECK(c.citations.empty());
}

TEST_CASE("citations: supported-answer rate by hand", "[eval][citations]") {
    std::vector<data::hotpot_record> gold(4);
    const char* answers[] = {"Paris", "yes", "Rome", "Oslo"};
    for (int i = 0; i < 4; ++i) gold[i].id = "q" + std::to_string(i), gold[i].answer = answers[i];
    // passages shown: 1 supports, 2 does not, 3 supports
    const std::vector<bool> holds = {true, false, true};
    const std::vector<generated_answer> gen = {
        {"q0", "<answer>Paris [1], [2]", holds},  // correct, cites a supporting one (and one not)
        {"q1", "<answer>yes [3]", holds},         // correct, cites only supporting
        {"q2", "<answer>Milan [1]", holds},       // wrong answer, cites only supporting
        {"qx", "<answer>stray [1]", holds},       // unknown id: ignored
        // q3: no generation (counts in the denominator of the first rate only)
    };
    const auto r = supported_answer_rates(gold, gen);
    CHECK(r.questions == 4);
    CHECK(r.supported == 2);  // q0, q1
    CHECK(r.supported_answer_rate == Approx(0.5));
    CHECK(r.answered == 3);
    CHECK(r.cite_only_supporting == 2);  // q1, q2
    CHECK(r.citation_precision_rate == Approx(2.0 / 3));
    // out-of-range numbers are unsupported citations
    const auto z = supported_answer_rates({gold[0]}, {{"q0", "Paris [7]", holds}});
    CHECK(z.supported == 0);
    CHECK(z.cite_only_supporting == 0);
}

TEST_CASE("retrieval metrics by hand", "[eval][retrieval]") {
    std::vector<data::hotpot_record> gold(3);
    gold[0].id = "a", gold[0].supporting_facts = {{"G1", 0}, {"G2", 0}, {"G2", 1}};
    gold[1].id = "b", gold[1].supporting_facts = {{"H1", 0}, {"H2", 2}};
    gold[2].id = "c", gold[2].supporting_facts = {{"K", 0}};
    std::unordered_map<std::string, std::vector<std::string>> got = {
        {"a", {"X", "G2", "G2", "Y", "G1"}},  // first gold at rank 2; both by rank 5
        {"b", {"H2"}},                         // one of two, at rank 1
        {"zz", {"K"}},                         // unknown id; c is missing
    };
    const auto r = evaluate_retrieval(gold, got, {1, 2, 5});
    CHECK(r.questions == 3);
    CHECK(r.missing == 1);
    CHECK(r.unknown_ids == 1);
    CHECK(r.mrr == Approx((0.5 + 1.0) / 3));
    CHECK(r.recall_at.at(1) == Approx((0 + 0.5) / 3));
    CHECK(r.recall_at.at(2) == Approx((0.5 + 0.5) / 3));
    CHECK(r.recall_at.at(5) == Approx((1 + 0.5) / 3));
    CHECK(r.both_recall_at.at(2) == 0.0);
    CHECK(r.both_recall_at.at(5) == Approx(1.0 / 3));
    CHECK(r.top2_exact == 0.0);  // a: X, G2; b: H2 alone
    got["a"] = {"G2", "G1", "X"};
    got["b"] = {"H2", "H2", "H1"};  // the first two entries hold one title only
    CHECK(evaluate_retrieval(gold, got, {2}).top2_exact == Approx(1.0 / 3));
}

namespace {
std::string run(const std::string& args, const std::filesystem::path& out) {
    const std::string exe = test::binary_dir() + "/bin/hoprag-evaluate";
    INFO("build the hoprag-evaluate target first: " << exe);
    REQUIRE(std::filesystem::exists(exe));
    const int rc = std::system((exe + " " + args + " > " + out.string() + " 2>/dev/null").c_str());
    REQUIRE(rc == 0);
    std::ifstream in(out);
    std::string line, last;
    while (std::getline(in, line))
        if (!line.empty()) last = line;
    return last;
}
}  // namespace

TEST_CASE("hoprag-evaluate on the dev sample", "[eval][program]") {
    const auto dir = std::filesystem::temp_directory_path() / ("hoprag_test_evaluate_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const std::string dev = test::source_dir() + "/../shared/data/hotpotqa/hotpot_dev_sample.jsonl";
    const std::string pred = test::source_dir() + "/tests/golden/hotpot_dev_predictions.json";
    const auto j = nlohmann::json::parse(run(dev + " " + pred, dir / "out.txt"));
    const auto rep = evaluate_hotpot(data::load_all(dev), read_hotpot_predictions(pred));
    CHECK(j["f1"].get<double>() == rep.overall.answer.f1);
    CHECK(j["joint_em"].get<double>() == rep.overall.joint.em);
    CHECK(j["by_type"]["comparison"]["sp_f1"].get<double>() == rep.by_type.at("comparison").sp.f1);
    CHECK(j["unknown_answer_ids"] == 3);

    // Retrieval: for question i, put its first gold title at rank (i % 4) + 1 after distractors,
    // the second gold title at rank 15; every 10th question has no line.
    const auto gold = data::load_all(dev);
    std::ofstream rf(dir / "retrieved.jsonl");
    double mrr = 0, r2 = 0, both10 = 0, both20 = 0;
    for (std::size_t i = 0; i < gold.size(); ++i) {
        if (i % 10 == 9) continue;
        std::vector<std::string> titles;
        for (const auto& sf : gold[i].supporting_facts)
            if (std::find(titles.begin(), titles.end(), sf.title) == titles.end()) titles.push_back(sf.title);
        REQUIRE(titles.size() == 2);
        nlohmann::json line;
        line["_id"] = gold[i].id;
        std::vector<nlohmann::json> ps;
        for (std::size_t r = 1; r <= 30; ++r) {
            std::string t = "distractor " + std::to_string(r);
            if (r == i % 4 + 1) t = titles[0];
            if (r == 15) t = titles[1];
            ps.push_back({{"title", t}, {"chunk", "text"}, {"score", 30.0 - double(r)}});
        }
        line["passages"] = ps;
        rf << line.dump() << "\n";
        mrr += 1.0 / double(i % 4 + 1);
        r2 += (i % 4 + 1 <= 2) ? 0.5 : 0.0;
        both20 += 1;
    }
    rf.close();
    const double n = double(gold.size());
    const auto k = nlohmann::json::parse(run("--retrieval " + dev + " " + (dir / "retrieved.jsonl").string(), dir / "out2.txt"));
    CHECK(k["mrr"].get<double>() == Approx(mrr / n).epsilon(1e-12));
    CHECK(k["recall@2"].get<double>() == Approx(r2 / n).epsilon(1e-12));
    CHECK(k["both_recall@10"].get<double>() == Approx(both10 / n).margin(1e-12));
    CHECK(k["both_recall@20"].get<double>() == Approx(both20 / n).epsilon(1e-12));
    CHECK(k["missing"] == 94);

    // Bad input: non-zero exit and one line on stderr naming the file.
    std::ofstream(dir / "bad.json") << R"({"answer": {"x": 1}, "sp": {}})";
    const std::string exe = test::binary_dir() + "/bin/hoprag-evaluate";
    const int rc = std::system((exe + " " + dev + " " + (dir / "bad.json").string() + " > /dev/null 2> " +
                                (dir / "err.txt").string()).c_str());
    CHECK(rc != 0);
    std::ifstream ef(dir / "err.txt");
    std::string all((std::istreambuf_iterator<char>(ef)), std::istreambuf_iterator<char>());
    CHECK_THAT(all, Catch::Contains("bad.json") && Catch::Contains("answer of id \"x\""));
    std::filesystem::remove_all(dir);
}
