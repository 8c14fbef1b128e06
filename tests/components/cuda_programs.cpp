// The trainers and answering programs with --device cuda against --device cpu, same seed and data
// (trainers at --compute f32, and the generator's trainer also under --profile t4 on both):
// hoprag-train-generator (QLoRA on a tiny random Llama, 3 steps: final loss and every adapter
// tensor), hoprag-generate (greedy tokens, f32 and NF4 bases), hoprag-answer (the answers and
// metrics of 2 held-out questions), hoprag-train-reranker (4 steps on a tiny cross-encoder: loss and
// weights) and hoprag-rerank (scores of the trained model). The GPU computes the same function
// with other summation orders, so numbers are compared within stated tolerances and generated
// tokens exactly (a near-tie of the top two logits would be reported as a failure to look at).
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hoprag/io/safetensors.hpp"
#include "hoprag/train/artifact_store.hpp"
#include "models/cross_encoder_tiny.hpp"
#include "support/files.hpp"
#include "support/tiny_llama.hpp"

namespace fs = std::filesystem;
using namespace hoprag;

namespace {

struct result {
    int code = -1;
    std::string err;
    std::vector<std::string> out;
    nlohmann::json last;  // the last stdout line when it is JSON
};

/// Runs bin/PROGRAM ARGS on `device` (the flag is appended), stdin from `input` when given.
result run(const std::string& program, const std::string& args, const std::string& device, const std::string& tag,
           const fs::path& input = {}) {
    const fs::path prog = fs::path(test::binary_dir()) / "bin" / program;
    INFO("the program must be built (scripts/device-check packs it): " << prog);
    REQUIRE(fs::exists(prog));
    const auto dir = test::fresh_dir("cuda-programs-" + tag + "-" + device);
    result r;
    r.code = test::run_command("OMP_NUM_THREADS=2 '" + prog.string() + "' " + args + " --device " + device +
                               (input.empty() ? std::string() : " < '" + input.string() + "'") + " > '" + (dir / "out").string() + "' 2> '" +
                               (dir / "err").string() + "'");
    r.err = test::slurp(dir / "err");
    r.out = test::lines_of(dir / "out");
    if (!r.out.empty() && !r.out.back().empty() && r.out.back()[0] == '{') r.last = nlohmann::json::parse(r.out.back());
    return r;
}

/// Every tensor of two safetensors files agrees within `atol` + `rtol` |cpu|.
void require_same_tensors(const fs::path& cpu, const fs::path& gpu, double rtol, double atol) {
    const io::safetensors_file a(cpu), b(gpu);
    REQUIRE(a.tensors().size() == b.tensors().size());
    for (const auto& t : a.tensors()) {
        INFO("tensor " << t.name);
        const auto x = t.to_f32(), y = b.at(t.name).to_f32();
        REQUIRE(x.size() == y.size());
        double worst = 0;
        for (std::size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::abs(double(x[i]) - y[i]) - rtol * std::abs(double(x[i])));
        CHECK(worst <= atol);
    }
}

}  // namespace

TEST_CASE("hoprag-train-generator, hoprag-generate and hoprag-answer on cuda equal their cpu runs", "[cuda][generator][programs]") {
    const auto model = test::tiny_llama("cuda-programs-llama");
    const auto data = test::tiny_qa_data("cuda-programs-data");
    const std::string train_args = "--model '" + model.string() + "' --train '" + data.first.string() + "' --dev '" + data.second.string() +
                                   "' --format plain --max-tokens 320 --passages 3 --accumulation 4 --max-steps 3 --warmup-steps 1 --lr 0.01"
                                   " --eval-steps 100 --save-steps 100 --eval-questions 2 --max-new-tokens 2 --no-tensorboard --seed 5 ";
    std::vector<result> trained;
    std::vector<fs::path> adapters;
    for (const std::string device : {"cpu", "cuda"}) {
        const auto out = test::fresh_dir("cuda-programs-train-" + device);
        trained.push_back(run("hoprag-train-generator", train_args + "--compute f32 --out '" + out.string() + "'", device, "train"));
        INFO(device << ": " << trained.back().err);
        REQUIRE(trained.back().code == 0);
        const train::artifact_store store(out / "artifacts");
        const auto files = store.fetch("adapter", "latest", out / "fetched");
        adapters.push_back(out / "fetched" / "adapter_model.safetensors");
        REQUIRE(fs::exists(adapters.back()));
    }
    CHECK(trained[1].last.at("steps") == 3);
    CHECK(trained[1].last.at("final_loss").get<double>() == Approx(trained[0].last.at("final_loss").get<double>()).epsilon(1e-3));
    require_same_tensors(adapters[0], adapters[1], 1e-3, 1e-5);

    // the t4 profile on both: f16 GEMMs with dynamic loss scaling, the cpu run as the reference
    std::vector<result> t4;
    for (const std::string device : {"cpu", "cuda"}) {
        const auto out = test::fresh_dir("cuda-programs-train-t4-" + device);
        t4.push_back(run("hoprag-train-generator", train_args + "--profile t4 --out '" + out.string() + "'", device, "train-t4"));
        INFO(device << ": " << t4.back().err);
        REQUIRE(t4.back().code == 0);
        CHECK(t4.back().err.find("profile t4 on " + device + ": GEMMs in f16, loss scaling from 65536") != std::string::npos);
    }
    CHECK(t4[1].last.at("skipped_steps") == t4[0].last.at("skipped_steps"));
    CHECK(t4[1].last.at("final_loss").get<double>() == Approx(t4[0].last.at("final_loss").get<double>()).epsilon(1e-2));

    // greedy generation, f32 and NF4 bases, with the cpu-trained adapter
    const auto prompts = test::fresh_dir("cuda-programs-prompts") / "p.jsonl";
    std::ofstream(prompts) << "\"Which magazine was started first?\"\n\"Who directed the film?\"\n";
    for (const std::string quant : {"none", "nf4"}) {
        INFO("--quant " << quant);
        const std::string args = "--model '" + model.string() + "' --adapter '" + adapters[0].parent_path().string() + "' --quant " + quant +
                                 " --max-new-tokens 6 --no-eos";
        const auto c = run("hoprag-generate", args, "cpu", "generate-" + quant, prompts);
        const auto g = run("hoprag-generate", args, "cuda", "generate-" + quant, prompts);
        INFO(g.err);
        REQUIRE(c.code == 0);
        REQUIRE(g.code == 0);
        REQUIRE(c.out.size() == 2);
        REQUIRE(g.out.size() == 2);
        for (std::size_t i = 0; i < 2; ++i) CHECK(nlohmann::json::parse(g.out[i]).at("tokens") == nlohmann::json::parse(c.out[i]).at("tokens"));
    }

    // answering the 2 held-out dev questions over their own paragraphs
    const std::string answer_args = "--model '" + model.string() + "' --quant nf4 --compute f32 --format plain --max-tokens 320 --max-new-tokens 4 --split heldout "
                                    "--questions '" + data.second.string() + "' --out ";
    std::vector<result> answered;
    std::vector<nlohmann::json> predictions;
    for (const std::string device : {"cpu", "cuda"}) {
        const auto out = test::fresh_dir("cuda-programs-answer-" + device) / "pred.json";
        answered.push_back(run("hoprag-answer", answer_args + "'" + out.string() + "'", device, "answer"));
        INFO(device << ": " << answered.back().err);
        REQUIRE(answered.back().code == 0);
        predictions.push_back(nlohmann::json::parse(test::slurp(out)));
    }
    CHECK(predictions[1].at("answer") == predictions[0].at("answer"));
    CHECK(answered[1].last.at("metrics") == answered[0].last.at("metrics"));
}

TEST_CASE("hoprag-train-reranker and hoprag-rerank on cuda equal their cpu runs", "[cuda][reranker][programs]") {
    const auto model = test::tiny_model("cuda-programs-cross-encoder", false, 1, 30522);
    const auto dir = test::fresh_dir("cuda-programs-reranker-data");
    {  // each of 6 questions with its own 4 paragraphs (2 gold) as the ranked list
        std::ofstream r(dir / "r.jsonl");
        const auto lines = test::lines_of(fs::path(test::source_dir()) / "../shared/data/hotpotqa/hotpot_train_sample.jsonl");
        REQUIRE(lines.size() >= 6);
        std::ofstream q(dir / "q.jsonl");
        for (std::size_t i = 0; i < 6; ++i) {
            q << lines[i] << "\n";
            const auto rec = nlohmann::json::parse(lines[i]);
            nlohmann::json ps = nlohmann::json::array();
            double score = 1.0;
            for (const auto& p : rec.at("context")) {
                std::string text;
                for (const auto& s : p.at(1)) text += s.get<std::string>();
                ps.push_back({{"title", p.at(0)}, {"chunk", text}, {"score", score -= 0.05}});
            }
            r << nlohmann::json{{"_id", rec.at("_id")}, {"passages", ps}}.dump() << "\n";
        }
    }
    const std::string train_args = "--model '" + model.string() + "' --train '" + (dir / "q.jsonl").string() + "' --retrieval '" +
                                   (dir / "r.jsonl").string() + "' --max-length 64 --batch 4 --negatives 1 --lr 1e-3 --max-steps 4 --save-steps 100"
                                   " --no-tensorboard --seed 3 --compute f32 --out ";
    std::vector<result> trained;
    for (const std::string device : {"cpu", "cuda"}) {
        trained.push_back(run("hoprag-train-reranker", train_args + "'" + (dir / device).string() + "'", device, "train-reranker"));
        INFO(device << ": " << trained.back().err);
        REQUIRE(trained.back().code == 0);
    }
    CHECK(trained[1].last.at("final_loss").get<double>() == Approx(trained[0].last.at("final_loss").get<double>()).epsilon(1e-3));
    require_same_tensors(dir / "cpu" / "model" / "model.safetensors", dir / "cuda" / "model" / "model.safetensors", 1e-3, 1e-5);

    std::vector<std::vector<std::string>> ranked;
    for (const std::string device : {"cpu", "cuda"}) {
        const auto out = dir / ("rr-" + device + ".jsonl");
        const auto r = run("hoprag-rerank", "--model '" + (dir / "cpu" / "model").string() + "' --questions '" + (dir / "q.jsonl").string() +
                                                "' --out '" + out.string() + "' --top 10 --max-length 64 '" + (dir / "r.jsonl").string() + "'",
                           device, "rerank");
        INFO(device << ": " << r.err);
        REQUIRE(r.code == 0);
        ranked.push_back(test::lines_of(out));
    }
    REQUIRE(ranked[0].size() == 6);
    REQUIRE(ranked[1].size() == 6);
    for (std::size_t i = 0; i < 6; ++i) {
        const auto c = nlohmann::json::parse(ranked[0][i]).at("passages"), g = nlohmann::json::parse(ranked[1][i]).at("passages");
        REQUIRE(c.size() == g.size());
        for (std::size_t k = 0; k < c.size(); ++k) {
            // the same passage at each rank unless two cpu scores are within 1e-4 of each other
            const auto& cg = g[k];
            bool found = false;
            for (const auto& p : c)
                if (p.at("chunk") == cg.at("chunk")) found = found || std::abs(p.at("score").get<double>() - cg.at("score").get<double>()) <= 1e-4;
            CHECK(found);
        }
    }
}
