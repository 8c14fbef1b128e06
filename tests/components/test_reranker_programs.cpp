// hoprag-train-reranker and hoprag-rerank end to end on a tiny random cross-encoder (H 8, real
// tokenizer ids) and a small made-up HotpotQA file: a run stopped mid-epoch and resumed ends with
// the same weights (bit for bit) as an uninterrupted run; the trainer writes metrics, checkpoints
// and a model folder that hoprag-rerank loads; hoprag-rerank writes the retrieval format with the
// top N reordered by score and reports retriever vs reranker metrics; bad usage exits 2.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hoprag/components/reranker.hpp"
#include "models/cross_encoder_tiny.hpp"
#include "support/files.hpp"

using namespace hoprag;
namespace fs = std::filesystem;
namespace comp = hoprag::components;

namespace {

fs::path program(const std::string& name) {
    const fs::path p = fs::path(test::binary_dir()) / "bin" / name;
    INFO("the program must be built: " << p);
    REQUIRE(fs::exists(p));
    return p;
}

struct result {
    int status;
    std::string last_line;
};

result run(const std::string& cmd, const fs::path& dir) {
    const auto out = dir / "stdout.txt";
    const int rc = std::system((cmd + " > " + out.string() + " 2> " + (dir / "stderr.txt").string()).c_str());
    std::ifstream in(out);
    std::string line, last;
    while (std::getline(in, line))
        if (!line.empty()) last = line;
    return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, last};
}

/// 8 questions, 4 paragraphs each (2 gold), and a retrieval file listing each question's
/// paragraphs plus two of the next question's.
void write_data(const fs::path& dir) {
    std::ofstream q(dir / "q.jsonl"), r(dir / "r.jsonl");
    const std::vector<std::string> words{"river", "castle", "album", "film", "league", "poet", "bridge", "island"};
    for (int i = 0; i < 8; ++i) {
        nlohmann::json rec;
        rec["_id"] = "q" + std::to_string(i);
        rec["question"] = "Which " + words[i] + " is older than the " + words[(i + 1) % 8] + "?";
        rec["answer"] = "yes";
        rec["type"] = "comparison";
        rec["level"] = "easy";
        rec["supporting_facts"] = nlohmann::json::array({nlohmann::json::array({"G" + std::to_string(i) + "a", 0}),
                                                         nlohmann::json::array({"G" + std::to_string(i) + "b", 0})});
        nlohmann::json ctx = nlohmann::json::array();
        nlohmann::json ret = nlohmann::json::array();
        double score = 0.9;
        for (const std::string s : {"a", "D", "b", "E"}) {
            const std::string title = (s == "a" || s == "b" ? "G" : "X") + std::to_string(i) + s;
            const std::string text = "The " + words[i] + " " + s + " was built long ago near the " + words[(i + 3) % 8] + ".";
            ctx.push_back(nlohmann::json::array({title, nlohmann::json::array({text})}));
            ret.push_back({{"title", title}, {"chunk", text}, {"score", score}});
            score -= 0.1;
        }
        rec["context"] = ctx;
        q << rec.dump() << "\n";
        r << nlohmann::json{{"_id", rec["_id"]}, {"passages", ret}}.dump() << "\n";
    }
}

}  // namespace

TEST_CASE("hoprag-train-reranker resumed mid-epoch ends with the same weights", "[reranker][programs]") {
    const auto dir = test::fresh_dir("train-reranker");
    const auto model = test::tiny_model("train-reranker-model", false, 1, 30522);
    write_data(dir);
    const std::string base = program("hoprag-train-reranker").string() + " --model " + model.string() + " --train " +
                             (dir / "q.jsonl").string() + " --retrieval " + (dir / "r.jsonl").string() +
                             " --max-length 32 --batch 4 --negatives 1 --lr 1e-3 --epochs 2 --save-steps 2 --no-tensorboard --seed 3";
    // 16 groups of 2 pairs, 2 groups per step: 8 steps per epoch, 16 in all
    const auto whole = run(base + " --out " + (dir / "whole").string(), dir);
    const std::string err = test::slurp(dir / "stderr.txt");
    INFO(err);
    REQUIRE(whole.status == 0);
    const auto j = nlohmann::json::parse(whole.last_line);
    CHECK(j.at("steps") == 16);
    CHECK(j.at("stopped") == "done");
    CHECK(fs::exists(dir / "whole" / "model" / "model.safetensors"));
    CHECK(fs::exists(dir / "whole" / "metrics.jsonl"));

    REQUIRE(run(base + " --out " + (dir / "split").string() + " --max-steps 5", dir).status == 0);  // mid-epoch 1
    const auto resumed = run(base + " --out " + (dir / "split").string() + " --resume", dir);
    REQUIRE(resumed.status == 0);
    CHECK(nlohmann::json::parse(resumed.last_line).at("steps") == 16);
    CHECK(test::slurp(dir / "split" / "model" / "model.safetensors") == test::slurp(dir / "whole" / "model" / "model.safetensors"));
    CHECK(nlohmann::json::parse(resumed.last_line).at("final_loss") == j.at("final_loss"));

    // the trained folder reranks
    const auto rr = run(program("hoprag-rerank").string() + " --model " + (dir / "whole" / "model").string() + " --questions " +
                            (dir / "q.jsonl").string() + " --out " + (dir / "rr.jsonl").string() + " --top 3 --max-length 32 " +
                            (dir / "r.jsonl").string(),
                        dir);
    REQUIRE(rr.status == 0);
    const auto k = nlohmann::json::parse(rr.last_line);
    CHECK(k.at("questions") == 8);
    CHECK(k.at("reranker").contains("both_at_2"));
    CHECK(k.at("retriever").at("both_at_2") == 0.0);  // retrieval order puts a distractor second
    std::ifstream in(dir / "rr.jsonl");
    std::string line;
    std::size_t lines = 0;
    while (std::getline(in, line)) {
        const auto l = nlohmann::json::parse(line);
        REQUIRE(l.at("passages").size() == 3);
        for (std::size_t i = 1; i < 3; ++i) CHECK(l["passages"][i - 1]["score"].get<double>() >= l["passages"][i]["score"].get<double>());
        ++lines;
    }
    CHECK(lines == 8);
}

TEST_CASE("hoprag-train-reranker --profile t4: f16 linears with dynamic loss scaling, close to f32", "[reranker][programs][mixed]") {
    const auto dir = test::fresh_dir("train-reranker-t4");
    const auto model = test::tiny_model("train-reranker-t4-model", false, 1, 30522);
    write_data(dir);
    const std::string base = program("hoprag-train-reranker").string() + " --model " + model.string() + " --train " +
                             (dir / "q.jsonl").string() + " --retrieval " + (dir / "r.jsonl").string() +
                             " --max-length 32 --batch 4 --negatives 1 --lr 1e-3 --epochs 1 --max-steps 4 --no-tensorboard --seed 3";
    const auto f32 = run(base + " --profile cpu --out " + (dir / "f32").string(), dir);
    REQUIRE(f32.status == 0);
    const auto t4 = run(base + " --profile t4 --out " + (dir / "t4").string(), dir);
    const std::string err = test::slurp(dir / "stderr.txt");
    INFO(err);
    REQUIRE(t4.status == 0);
    CHECK(err.find("profile t4 on cpu: GEMMs in f16, loss scaling from 65536") != std::string::npos);
    const auto a = nlohmann::json::parse(f32.last_line), b = nlohmann::json::parse(t4.last_line);
    CHECK(b.at("skipped_steps") == 0);
    CHECK(b.at("final_loss") != a.at("final_loss"));
    CHECK(std::abs(b.at("final_loss").get<double>() - a.at("final_loss").get<double>()) < 0.05 * a.at("final_loss").get<double>());
    std::size_t scaled = 0;
    std::ifstream in(dir / "t4" / "metrics.jsonl");
    for (std::string line; std::getline(in, line);)
        if (const auto j = nlohmann::json::parse(line); j.contains("loss_scale")) scaled += j.at("loss_scale") == 65536.0;
    CHECK(scaled == 4);
    CHECK(run(base + " --compute f8 --out " + (dir / "bad").string(), dir).status == 2);
}

TEST_CASE("score fusion: trained w is checkpointed (resume is bit-identical) and hoprag-rerank --fusion uses it", "[reranker][programs][fusion]") {
    const auto dir = test::fresh_dir("train-reranker-fusion");
    const auto model = test::tiny_model("train-reranker-fusion-model", false, 1, 30522);
    write_data(dir);
    const std::string base = program("hoprag-train-reranker").string() + " --model " + model.string() + " --train " +
                             (dir / "q.jsonl").string() + " --retrieval " + (dir / "r.jsonl").string() +
                             " --fusion-weight 10 --max-length 32 --batch 4 --negatives 1 --lr 1e-3 --classifier-lr-scale 10"
                             " --epochs 2 --save-steps 2 --no-tensorboard --seed 3";
    const auto whole = run(base + " --out " + (dir / "whole").string(), dir);
    INFO(test::slurp(dir / "stderr.txt"));
    REQUIRE(whole.status == 0);
    const auto j = nlohmann::json::parse(whole.last_line);
    CHECK(j.at("retriever_weight").get<double>() != 10.0);  // w is trained
    CHECK(io::safetensors_checkpoint(dir / "whole" / "model").at("retriever_weight").to_f32().at(0) == j.at("retriever_weight").get<float>());
    REQUIRE(run(base + " --out " + (dir / "split").string() + " --max-steps 5", dir).status == 0);
    const auto resumed = run(base + " --out " + (dir / "split").string() + " --resume", dir);
    REQUIRE(resumed.status == 0);
    const auto r = nlohmann::json::parse(resumed.last_line);
    CHECK(r.at("steps") == j.at("steps"));
    CHECK(r.at("retriever_weight") == j.at("retriever_weight"));
    CHECK(test::slurp(dir / "split" / "model" / "model.safetensors") == test::slurp(dir / "whole" / "model" / "model.safetensors"));

    const std::string rerank = program("hoprag-rerank").string() + " --questions " + (dir / "q.jsonl").string() + " --out " +
                               (dir / "rr.jsonl").string() + " --top 4 --max-length 32 ";
    const auto fused = run(rerank + "--fusion --model " + (dir / "whole" / "model").string() + " " + (dir / "r.jsonl").string(), dir);
    REQUIRE(fused.status == 0);
    CHECK(nlohmann::json::parse(fused.last_line).at("fusion_weight") == j.at("retriever_weight"));
    // a model without a retriever weight (the base MiniLM): --fusion is refused with status 1
    CHECK(run(rerank + "--fusion --model " + model.string() + " " + (dir / "r.jsonl").string(), dir).status == 1);
    // --fusion-weight without --retrieval is bad usage (status 2), refused before the model loads
    CHECK(run(program("hoprag-train-reranker").string() + " --model " + model.string() + " --train " + (dir / "q.jsonl").string() +
                  " --fusion-weight 5 --out " + (dir / "x").string(), dir).status == 2);
}

TEST_CASE("reranker programs refuse bad usage with status 2", "[reranker][programs]") {
    const auto dir = test::fresh_dir("reranker-usage");
    CHECK(run(program("hoprag-train-reranker").string() + " --out x", dir).status == 2);
    CHECK(run(program("hoprag-train-reranker").string() + " --model m --train t --out x --loss hinge", dir).status == 2);
    CHECK(run(program("hoprag-rerank").string() + " --model m --questions q --out o --top 0 r", dir).status == 2);
    CHECK(run(program("hoprag-rerank").string() + " --help", dir).status == 0);
}
