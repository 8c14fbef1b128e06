// hoprag-answer end to end on 2 held-out shared dev questions with the real SmolLM2-135M-Instruct
// GGUF (f32, short prompt budget and few new tokens to stay fast): exit status, the JSON summary
// as the last stdout line, a prediction file that hoprag-evaluate accepts with both ids, one
// generation line per question; bad usage exits 2, a missing input file exits 1 with one line.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hoprag/eval/hotpot_predictions_io.hpp"
#include "support/files.hpp"

namespace fs = std::filesystem;
using namespace hoprag;

using test::lines_of;
using test::run_command;

TEST_CASE("hoprag-answer answers 2 questions with SmolLM2 and writes official predictions", "[answer][programs][smollm2]") {
    const fs::path bin = fs::path(test::binary_dir()) / "bin";
    REQUIRE(fs::exists(bin / "hoprag-answer"));
    const std::string root = test::source_dir();
    const std::string model = root + "/.cache/models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf";
    const std::string dev = root + "/../shared/data/hotpotqa/hotpot_dev_sample.jsonl";
    const auto dir = test::fresh_dir("answer_program");
    const std::string cmd = (bin / "hoprag-answer").string() + " --model '" + model + "' --questions '" + dev +
                            "' --split heldout --limit 2 --quant none --max-tokens 360 --max-new-tokens 6 --out '" +
                            (dir / "pred.json").string() + "' --generations '" + (dir / "gen.jsonl").string() + "' > '" +
                            (dir / "out.txt").string() + "' 2> '" + (dir / "err.txt").string() + "'";
    const int rc = run_command(cmd);
    INFO(test::slurp(dir / "err.txt"));
    REQUIRE(rc == 0);
    const auto out = lines_of(dir / "out.txt");
    REQUIRE(!out.empty());
    const auto s = nlohmann::json::parse(out.back());
    CHECK(s.at("questions") == 2);
    CHECK(s.at("answered").get<int>() + s.at("insufficient").get<int>() == 2);
    CHECK(s.at("mean_latency_s").get<double>() > 0);
    CHECK(s.at("prompt_tokens_mean").get<double>() + 6 <= 360);
    CHECK(s.at("dropped_passages").get<int>() > 0);  // 10 paragraphs never fit in 360 tokens
    for (const char* k : {"em", "f1", "sp_f1", "joint_f1"}) CHECK(s.at("metrics").contains(k));
    CHECK(s.contains("supported_answer_rate"));
    const auto pred = eval::read_hotpot_predictions(dir / "pred.json");
    CHECK(pred.answer.size() == 2);
    CHECK(pred.sp.size() == 2);
    const auto gen = lines_of(dir / "gen.jsonl");
    REQUIRE(gen.size() == 2);
    for (const auto& l : gen) {
        const auto j = nlohmann::json::parse(l);
        CHECK(pred.answer.count(j.at("_id").get<std::string>()));
        CHECK(j.at("generated_tokens").get<int>() <= 6);
        CHECK(j.at("holds_support").size() >= 1);
    }
    // hoprag-evaluate reads the file against the same held-out questions
    {
        std::ofstream q(dir / "gold.jsonl");
        std::ifstream in(dev);
        for (std::string l; std::getline(in, l);)
            for (const auto& [id, _] : pred.answer)
                if (l.find("\"_id\": \"" + id + "\"") != std::string::npos) q << l << "\n";
    }
    REQUIRE(run_command((bin / "hoprag-evaluate").string() + " '" + (dir / "gold.jsonl").string() + "' '" + (dir / "pred.json").string() +
                "' > '" + (dir / "eval.txt").string() + "' 2>/dev/null") == 0);
    const auto ev = nlohmann::json::parse(lines_of(dir / "eval.txt").back());
    CHECK(ev.at("questions") == 2);
    CHECK(ev.at("missing_answer") == 0);
    CHECK(ev.at("f1").get<double>() == Approx(s.at("metrics").at("f1").get<double>()));

    CHECK(run_command((bin / "hoprag-answer").string() + " --questions x --out y 2>/dev/null") == 2);  // no --model
    CHECK(run_command((bin / "hoprag-answer").string() + " --model m --questions x --out y --quant q4 2>/dev/null") == 2);
    CHECK(run_command((bin / "hoprag-answer").string() + " --model m --questions x --out y --compute f8 2>/dev/null") == 2);
    CHECK(run_command((bin / "hoprag-answer").string() + " --model m --questions x --out y --profile tpu 2>/dev/null") == 2);
    CHECK(run_command((bin / "hoprag-answer").string() + " --model '" + model + "' --questions '" + (dir / "missing.jsonl").string() +
              "' --out '" + (dir / "p2.json").string() + "' 2> '" + (dir / "err2.txt").string() + "'") == 1);
    const auto err = lines_of(dir / "err2.txt");
    REQUIRE(err.size() == 1);
    CHECK(err[0].find("missing.jsonl") != std::string::npos);
}

TEST_CASE("hoprag-answer answers unlabelled questions in the official test format and scores only the labelled", "[answer][programs][smollm2]") {
    const fs::path bin = fs::path(test::binary_dir()) / "bin";
    const std::string root = test::source_dir();
    const std::string model = root + "/.cache/models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf";
    const auto lines = lines_of(root + "/../shared/data/hotpotqa/hotpot_dev_sample.jsonl");
    REQUIRE(lines.size() >= 2);
    const std::vector<nlohmann::json> dev{nlohmann::json::parse(lines[0]), nlohmann::json::parse(lines[1])};
    const auto dir = test::fresh_dir("answer_unlabelled");
    {
        std::ofstream q(dir / "q.jsonl");
        nlohmann::json test_format{{"_id", dev[0].at("_id")}, {"question", dev[0].at("question")}, {"context", dev[0].at("context")}};
        q << test_format.dump() << "\n" << dev[1].dump() << "\n";  // one test-format record, one labelled
    }
    const std::string cmd = (bin / "hoprag-answer").string() + " --model '" + model + "' --questions '" + (dir / "q.jsonl").string() +
                            "' --quant none --max-tokens 360 --max-new-tokens 4 --out '" + (dir / "pred.json").string() + "' > '" +
                            (dir / "out.txt").string() + "' 2> '" + (dir / "err.txt").string() + "'";
    const int rc = run_command(cmd);
    INFO(test::slurp(dir / "err.txt"));
    REQUIRE(rc == 0);
    const auto s = nlohmann::json::parse(lines_of(dir / "out.txt").back());
    CHECK(s.at("questions") == 2);
    CHECK(s.at("scored_questions") == 1);
    CHECK(s.at("metrics").contains("f1"));
    CHECK(eval::read_hotpot_predictions(dir / "pred.json").answer.size() == 2);
}
