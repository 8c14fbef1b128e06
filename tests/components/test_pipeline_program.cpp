// hoprag-pipeline end to end on 2 held-out shared dev questions with the real models: a flat index of
// those questions' 20 paragraphs built by hoprag-index with all-MiniLM-L6-v2, top-5 retrieval, a
// tiny random cross-encoder (with the MiniLM tokenizer) keeping 3, and SmolLM2-135M-Instruct
// (Q4_1 GGUF, NF4, short prompt budget, 4 new tokens). Checks: exit status, the JSON summary (3
// passages kept from 5, per-question stage latencies > 0 and consistent with their means, metrics
// present), a prediction file hoprag-evaluate accepts with the same F1; --no-rerank without an
// index (each question's own paragraphs) keeps the first --keep in retrieval order; --fusion with a
// retriever weight that dominates the logits answers exactly like --no-rerank (same kept passages in
// the same order); bad usage exits 2.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "hoprag/components/reranker.hpp"
#include "hoprag/cpu/backend.hpp"
#include "hoprag/data/heldout_split.hpp"
#include "hoprag/data/hotpotqa.hpp"
#include "hoprag/eval/hotpot_predictions_io.hpp"
#include "models/cross_encoder_tiny.hpp"
#include "support/files.hpp"

namespace fs = std::filesystem;
using namespace hoprag;

namespace {

const fs::path bin = fs::path(test::binary_dir()) / "bin";
const std::string root = test::source_dir();
const std::string llm = root + "/.cache/models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf";
const std::string encoder = root + "/.cache/models/all-minilm-l6-v2";

/// The first 2 held-out questions of the shared dev sample, as a file.
fs::path two_heldout(const fs::path& dir) {
    std::ofstream q(dir / "q.jsonl");
    int n = 0;
    for (const auto& l : test::lines_of(root + "/../shared/data/hotpotqa/hotpot_dev_sample.jsonl"))
        if (n < 2 && data::is_heldout(nlohmann::json::parse(l).at("_id").get<std::string>())) q << l << "\n", ++n;
    REQUIRE(n == 2);
    return dir / "q.jsonl";
}

nlohmann::json last_json(const fs::path& f) {
    const auto lines = test::lines_of(f);
    REQUIRE(!lines.empty());
    return nlohmann::json::parse(lines.back());
}

}  // namespace

TEST_CASE("hoprag-pipeline: retrieve -> rerank -> generate -> metrics on 2 questions", "[pipeline][programs][smollm2]") {
    REQUIRE(fs::exists(bin / "hoprag-pipeline"));
    REQUIRE(fs::exists(bin / "hoprag-index"));
    const auto dir = test::fresh_dir("pipeline_program");
    const auto q = two_heldout(dir);
    const std::string env = "OMP_NUM_THREADS=1 OMP_WAIT_POLICY=passive ";
    REQUIRE(test::run_command(env + (bin / "hoprag-index").string() + " --model '" + encoder + "' --out '" + (dir / "x.idx").string() + "' '" +
                              q.string() + "' > /dev/null 2> '" + (dir / "index.err").string() + "'") == 0);
    const auto rr = test::tiny_model("pipeline-reranker", true, 1, 30522);
    const std::string common = " --encoder '" + encoder + "' --generator '" + llm + "' --questions '" + q.string() +
                               "' --max-tokens 300 --max-new-tokens 4 --k 5 --keep 3";
    const int rc = test::run_command(env + (bin / "hoprag-pipeline").string() + common + " --index '" + (dir / "x.idx").string() + "' --corpus '" +
                                     q.string() + "' --reranker '" + rr.string() + "' --rerank-max-length 64 --out '" + (dir / "pred.json").string() + "' > '" +
                                     (dir / "out").string() + "' 2> '" + (dir / "err").string() + "'");
    INFO(test::slurp(dir / "err"));
    REQUIRE(rc == 0);
    const auto s = last_json(dir / "out");
    CHECK(s.at("questions") == 2);
    CHECK(s.at("keep") == 3);
    CHECK(s.at("rerank") == rr.string());
    CHECK(s.at("profile") == "cpu");
    CHECK(s.at("compute") == "f32");
    for (const char* k : {"em", "f1", "sp_f1", "joint_f1"}) CHECK(s.at("metrics").contains(k));
    CHECK(s.contains("supported_answer_rate"));
    REQUIRE(s.at("per_question").size() == 2);
    double sum_g = 0;
    for (const auto& p : s.at("per_question")) {
        CHECK(p.at("retrieve_s").get<double>() > 0);
        CHECK(p.at("rerank_s").get<double>() > 0);
        CHECK(p.at("generate_s").get<double>() > 0);
        sum_g += p.at("generate_s").get<double>();
    }
    CHECK(s.at("latency_s").at("generate").get<double>() == Approx(sum_g / 2));
    CHECK(test::slurp(dir / "err").find("retrieve ") != std::string::npos);  // per-question latency lines
    const auto pred = eval::read_hotpot_predictions(dir / "pred.json");
    CHECK(pred.answer.size() == 2);
    REQUIRE(test::run_command((bin / "hoprag-evaluate").string() + " '" + q.string() + "' '" + (dir / "pred.json").string() + "' > '" +
                              (dir / "eval").string() + "' 2>/dev/null") == 0);
    CHECK(last_json(dir / "eval").at("f1").get<double>() == Approx(s.at("metrics").at("f1").get<double>()));

    SECTION("questions alone (JSON lines {\"_id\", \"question\"}) over an index, hybrid, two hops: answered, not scored") {
        {
            std::ofstream bare(dir / "bare.jsonl");
            for (const auto& r : data::load_all(q)) bare << nlohmann::json{{"_id", r.id}, {"question", r.question}}.dump() << "\n";
        }
        REQUIRE(test::run_command(env + (bin / "hoprag-pipeline").string() + " --encoder '" + encoder + "' --generator '" + llm + "' --questions '" +
                                  (dir / "bare.jsonl").string() + "' --max-tokens 300 --max-new-tokens 4 --k 5 --keep 3 --no-rerank --hops 2 --seeds 2 --hybrid --index '" +
                                  (dir / "x.idx").string() + "' --corpus '" + q.string() + "' --out '" + (dir / "bare.json").string() + "' > '" +
                                  (dir / "out3").string() + "' 2>/dev/null") == 0);
        const auto s3 = last_json(dir / "out3");
        CHECK(s3.at("questions") == 2);
        CHECK(s3.at("scored_questions") == 0);
        CHECK(s3.at("hops") == 2);
        CHECK(s3.at("bm25_weight").get<double>() == Approx(0.6));
        CHECK_FALSE(s3.contains("metrics"));
        CHECK_FALSE(s3.contains("both_gold_kept_rate"));
        CHECK(eval::read_hotpot_predictions(dir / "bare.json").answer.size() == 2);
    }
    SECTION("plain text, one question per line, over an index: answered as line-N; without an index refused") {
        {
            std::ofstream text(dir / "plain.txt");
            for (const auto& r : data::load_all(q)) text << "\n" << r.question << "\r\n";
        }
        const std::string args = " --encoder '" + encoder + "' --generator '" + llm + "' --questions '" + (dir / "plain.txt").string() +
                                 "' --max-tokens 300 --max-new-tokens 4 --k 5 --keep 3 --no-rerank --out '" + (dir / "plain.json").string() + "'";
        REQUIRE(test::run_command(env + (bin / "hoprag-pipeline").string() + args + " --index '" + (dir / "x.idx").string() + "' --corpus '" +
                                  q.string() + "' > '" + (dir / "out4").string() + "' 2>/dev/null") == 0);
        CHECK(last_json(dir / "out4").at("questions") == 2);
        CHECK(last_json(dir / "out4").at("scored_questions") == 0);
        const auto plain = eval::read_hotpot_predictions(dir / "plain.json");
        CHECK(plain.answer.count("line-2") == 1);  // a blank line before each question: lines 2 and 4
        CHECK(plain.answer.count("line-4") == 1);
        CHECK(test::run_command(env + (bin / "hoprag-pipeline").string() + args + " > /dev/null 2> '" + (dir / "err4").string() + "'") == 1);
        CHECK(test::slurp(dir / "err4").find("plain-text questions have no context paragraphs") != std::string::npos);
    }
    SECTION("--no-rerank without an index: own paragraphs, retrieval order") {
        const int rc2 = test::run_command(env + (bin / "hoprag-pipeline").string() + common + " --no-rerank --limit 1 --out '" +
                                          (dir / "pred2.json").string() + "' > '" + (dir / "out2").string() + "' 2> '" + (dir / "err2").string() + "'");
        INFO(test::slurp(dir / "err2"));
        REQUIRE(rc2 == 0);
        const auto s2 = last_json(dir / "out2");
        CHECK(s2.at("questions") == 1);
        CHECK(s2.at("rerank") == "none");
        CHECK(s2.at("retrieval") == "own_paragraphs");
        CHECK(s2.at("per_question")[0].at("rerank_s").get<double>() < 0.01);  // no cross-encoder: the list is only cut to --keep
    }
    SECTION("--fusion: a dominant retriever weight keeps the retrieval order") {
        const fs::path fused = dir / "fused";
        {
            cpu::context ctx;
            components::reranker<components::softmax_loss, cpu::backend> r(ctx, rr, {.max_length = 64, .train = false});
            r.set_retriever_weight(1e4f);
            r.model().save(fused);
        }
        const std::string idx = " --index '" + (dir / "x.idx").string() + "' --corpus '" + q.string() + "' --rerank-max-length 64";
        const auto run = [&](const std::string& flags, const std::string& name) {
            return test::run_command(env + (bin / "hoprag-pipeline").string() + common + idx + flags + " --out '" + (dir / (name + ".json")).string() +
                                     "' > '" + (dir / name).string() + "' 2>&1");
        };
        REQUIRE(run(" --no-rerank", "plain") == 0);
        REQUIRE(run(" --fusion --reranker '" + fused.string() + "'", "fusion") == 0);
        CHECK(last_json(dir / "fusion").at("rerank") == fused.string() + " (fusion)");
        CHECK(test::slurp(dir / "fusion.json") == test::slurp(dir / "plain.json"));
        CHECK(run(" --fusion --reranker '" + rr.string() + "'", "no_weight") == 1);  // its retriever_weight is 0
    }
    SECTION("bad usage exits 2") {
        const std::string p = (bin / "hoprag-pipeline").string();
        CHECK(test::run_command(p + common + " --out x 2>/dev/null") == 2);  // neither --reranker nor --no-rerank
        CHECK(test::run_command(p + common + " --no-rerank --reranker r --out x 2>/dev/null") == 2);
        CHECK(test::run_command(p + common + " --no-rerank --hops 2 --out x 2>/dev/null") == 2);  // two hops need an index
        CHECK(test::run_command(p + " --model m --no-rerank 2>/dev/null") == 2);
        CHECK(test::run_command(p + common + " --no-rerank --out x --profile tpu 2>/dev/null") == 2);
        CHECK(test::run_command(p + common + " --no-rerank --out x --compute f8 2>/dev/null") == 2);
        CHECK(test::run_command(p + common + " --no-rerank --out x --index i.idx 2>/dev/null") == 2);  // no --corpus
        CHECK(test::run_command(p + common + " --no-rerank --fusion --out x 2>/dev/null") == 2);
        CHECK(test::run_command(p + " --help > /dev/null") == 0);
    }
}
