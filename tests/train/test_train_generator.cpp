// hoprag-train-generator as a child process on a tiny random Llama written as a Hugging Face folder
// (config.json, model.safetensors, tokenizer.json: the tiny SentencePiece-style BPE of the tokenizer
// golden files plus an "<|im_end|>" end token), trained on a few HotpotQA questions with plain
// prompts of at most 320 tokens, so a run takes well under a second. Determinism: two runs with the
// same seed write byte-identical adapter files, another seed does not; a run stopped mid-epoch
// (--session-steps, and at a window boundary the --time-limit path) then resumed ends with the same
// adapter bytes as the uninterrupted run, across an epoch boundary. --plan prints the memory plan
// and refuses a budget that is too small, naming the largest term. Bad configuration exits 2 with one
// line naming the option; a missing model exits 1. With --retrieval / --eval-retrieval the curriculum
// and the evaluation read ranked-passage files (repeated flag = list), and a training question
// missing from them is refused.
#include <catch2/catch.hpp>

#include <filesystem>
#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hoprag/data/heldout_split.hpp"
#include "hoprag/data/hotpotqa.hpp"
#include "hoprag/data/passage_unit.hpp"
#include "hoprag/data/ranked_passage_file.hpp"
#include "hoprag/io/safetensors.hpp"
#include "hoprag/train/artifact_store.hpp"
#include "support/files.hpp"
#include "support/tiny_llama.hpp"

namespace fs = std::filesystem;
using namespace hoprag;


namespace {

struct run_result {
    int code = -1;
    std::string out, err;
    nlohmann::json last;  // the last stdout line when it is JSON
};

run_result run(const std::string& tag, const std::string& args) {
    const fs::path prog = fs::path(test::binary_dir()) / "bin" / "hoprag-train-generator";
    INFO("the program must be built: " << prog);
    REQUIRE(fs::exists(prog));
    const auto dir = test::fresh_dir("train-generator-run-" + tag);
    run_result r;
    r.code = test::run_command("OMP_NUM_THREADS=1 OMP_WAIT_POLICY=passive '" + prog.string() + "' " + args + " > '" + (dir / "out").string() +
                               "' 2> '" + (dir / "err").string() + "'");
    r.out = test::slurp(dir / "out"), r.err = test::slurp(dir / "err");
    const auto lines = test::lines_of(dir / "out");
    if (!lines.empty() && !lines.back().empty() && lines.back()[0] == '{') r.last = nlohmann::json::parse(lines.back());
    return r;
}

/// The files of the latest "adapter" artifact in OUT/artifacts: name -> bytes.
std::map<std::string, std::string> latest_adapter(const fs::path& out) {
    const train::artifact_store store(out / "artifacts");
    const auto dest = out / "fetched";
    fs::remove_all(dest);
    std::map<std::string, std::string> files;
    for (const auto& f : store.fetch("adapter", "latest", dest)) files[f.filename().string()] = test::slurp(f);
    return files;
}

std::string common_args(const fs::path& model, const std::pair<fs::path, fs::path>& data) {
    // 20 examples (4 train + 16 training-part dev questions), accumulation 4: 5 steps per epoch;
    // 8 steps cross into epoch 1 (retrieval contexts)
    return "--model '" + model.string() + "' --train '" + data.first.string() + "' --dev '" + data.second.string() +
           "' --format plain --max-tokens 320 --passages 3 --accumulation 4 --max-steps 8 --warmup-steps 2 --lr 0.01"
           " --eval-steps 100 --save-steps 100 --eval-questions 1 --max-new-tokens 2 --no-tensorboard";
}

}  // namespace

TEST_CASE("hoprag-train-generator: same seed gives the same adapter bytes, and resume continues identically", "[train_generator][program]") {
    const auto model = test::tiny_llama();
    const auto data = test::tiny_qa_data();
    const auto base = test::fresh_dir("train-generator-runs");
    const std::string args = common_args(model, data);

    const auto a = run("a", args + " --seed 3 --out '" + (base / "a").string() + "'");
    INFO(a.err);
    REQUIRE(a.code == 0);
    CHECK(a.last.at("steps") == 8);
    CHECK(a.last.at("epoch") == 1);
    CHECK(a.last.at("stopped") == "max_steps");
    REQUIRE(a.last.at("final_loss").is_number());
    CHECK(a.last.at("host_peak_rss_mib").get<double>() > 0);  // peak memory in the result (no device peak on the CPU)
    CHECK(!a.last.contains("device_peak_mib"));
    const auto fa = latest_adapter(base / "a");
    REQUIRE(fa.count("adapter_model.safetensors"));
    REQUIRE(fa.count("checkpoint.safetensors"));
    {  // the checkpoint holds the AdamW moments; the adapter weights live once, in the PEFT file
        const auto ck = base / "ck.safetensors";
        test::put(ck, fa.at("checkpoint.safetensors"));
        const io::safetensors_file f(ck);
        CHECK(f.metadata().at("params_in") == "adapter_model.safetensors");
        std::size_t params = 0, moments = 0;
        for (const auto& t : f.tensors()) (t.name.rfind("param.", 0) == 0 ? params : moments) += 1;
        CHECK(params == 0);
        CHECK(moments == 2 * io::safetensors_file(base / "a" / "fetched" / "adapter_model.safetensors").tensors().size());
    }

    SECTION("same seed: identical adapter and checkpoint bytes; another seed differs") {
        const auto b = run("b", args + " --seed 3 --out '" + (base / "b").string() + "'");
        INFO(b.err);
        REQUIRE(b.code == 0);
        const auto fb = latest_adapter(base / "b");
        CHECK(fb.at("adapter_model.safetensors") == fa.at("adapter_model.safetensors"));
        CHECK(fb.at("checkpoint.safetensors") == fa.at("checkpoint.safetensors"));
        CHECK(b.last.at("final_loss") == a.last.at("final_loss"));
        const auto c = run("c", args + " --seed 4 --out '" + (base / "c").string() + "'");
        INFO(c.err);
        REQUIRE(c.code == 0);
        CHECK(latest_adapter(base / "c").at("adapter_model.safetensors") != fa.at("adapter_model.safetensors"));
    }

    SECTION("stopped mid-epoch after 3 steps and resumed: the same adapter bytes as the uninterrupted run") {
        const std::string out = " --seed 3 --out '" + (base / "r").string() + "'";
        const auto s = run("stop", args + out + " --session-steps 3");
        INFO(s.err);
        REQUIRE(s.code == 0);
        CHECK(s.last.at("steps") == 3);
        CHECK(s.last.at("stopped") == "session_steps");
        CHECK(s.last.at("epoch") == 0);
        CHECK(s.err.find("resume with:") != std::string::npos);
        CHECK(latest_adapter(base / "r").at("adapter_model.safetensors") != fa.at("adapter_model.safetensors"));
        const auto r = run("resume", args + out + " --resume");
        INFO(r.err);
        REQUIRE(r.code == 0);
        CHECK(r.err.find("resumed from adapter v0") != std::string::npos);
        CHECK(r.last.at("steps") == 8);
        CHECK(r.last.at("stopped") == "max_steps");
        const auto fr = latest_adapter(base / "r");
        CHECK(fr.at("adapter_model.safetensors") == fa.at("adapter_model.safetensors"));
        CHECK(fr.at("checkpoint.safetensors") == fa.at("checkpoint.safetensors"));
        CHECK(r.last.at("final_loss") == a.last.at("final_loss"));
    }
}

TEST_CASE("hoprag-train-generator --retrieval: the curriculum and the evaluation read ranked-passage files", "[train_generator][program]") {
    const auto model = test::tiny_llama();
    const auto data = test::tiny_qa_data();
    const auto dir = test::fresh_dir("train-generator-retrieval");
    // each question's "retrieval": its own paragraphs (paragraph unit) in reverse order, gold last
    const auto write_ranks = [&](const fs::path& questions, const fs::path& out, data::split_part part) {
        const auto records = data::load_all(questions);
        const auto c = data::unit_corpus(records, data::passage_unit::paragraph);
        std::ofstream f(out);
        for (const auto& r : records) {
            if (!data::in_split(r.id, part)) continue;
            std::vector<data::passage> ps;
            for (auto it = r.context.rbegin(); it != r.context.rend(); ++it) ps.push_back(c[c.passages_of(it->title).first]);
            std::stable_partition(ps.begin(), ps.end(), [&](const data::passage& p) { return !data::holds_support(p, r); });
            f << data::ranked_passages_line(r.id, ps);
        }
    };
    write_ranks(data.first, dir / "train-ranks.jsonl", data::split_part::all);
    write_ranks(data.second, dir / "dev-ranks.jsonl", data::split_part::training);
    write_ranks(data.second, dir / "heldout-ranks.jsonl", data::split_part::heldout);
    const std::string args = common_args(model, data) + " --unit paragraph --retrieval '" + (dir / "train-ranks.jsonl").string() +
                             "' --retrieval '" + (dir / "dev-ranks.jsonl").string() + "' --eval-retrieval '" + (dir / "heldout-ranks.jsonl").string() +
                             "' --forced-epochs 0.2 --mix-epochs 0.4 --eval-steps 8 --out '";
    const auto a = run("retrieval", args + (dir / "a").string() + "'");
    INFO(a.err);
    REQUIRE(a.code == 0);
    CHECK(a.last.at("steps") == 8);
    CHECK(a.err.find("candidates: ranked lists of") != std::string::npos);
    CHECK(a.err.find("(0 ranked passages not in the corpus)") != std::string::npos);
    const auto metrics = test::lines_of(dir / "a" / "metrics.jsonl");
    bool evaluated = false;
    for (const auto& l : metrics) {
        const auto j = nlohmann::json::parse(l);
        if (!j.contains("eval_supported_answer_rate")) continue;
        evaluated = true;
        CHECK(j.contains("eval_citation_precision"));
    }
    CHECK(evaluated);
    // without the dev questions' ranks, training questions have no candidates: refused naming one
    const auto b = run("retrieval-missing", common_args(model, data) + " --retrieval '" + (dir / "train-ranks.jsonl").string() + "' --out '" +
                                                (dir / "b").string() + "'");
    CHECK(b.code == 1);
    CHECK(b.err.find("has no ranked passages") != std::string::npos);
}

TEST_CASE("hoprag-train-generator --plan prints the memory plan and refuses a budget that is too small", "[train_generator][program]") {
    const auto model = test::tiny_llama();
    const auto ok = run("plan", "--model '" + model.string() + "' --plan --max-tokens 256");
    INFO(ok.err);
    REQUIRE(ok.code == 0);
    CHECK(ok.last.at("fits") == true);
    CHECK(ok.last.at("profile") == "cpu");
    CHECK(ok.last.at("adapter_parameters").get<std::int64_t>() > 0);
    CHECK(ok.err.find("total") != std::string::npos);
    CHECK(ok.err.find("seq 256") != std::string::npos);
    CHECK(!fs::exists(fs::path(test::binary_dir()) / "test-files" / "artifacts"));  // nothing trained

    // a 4096-token sequence without checkpointing in 1 MiB: refused, the largest term named
    const auto no = run("plan-small", "--model '" + model.string() + "' --plan --max-tokens 4096 --checkpointing false --plan-memory-gib 0.001");
    CHECK(no.code == 1);
    CHECK(no.last.at("fits") == false);
    const std::string largest = no.last.at("largest_term").get<std::string>();
    CHECK(!largest.empty());
    CHECK(no.err.find("the largest term is " + largest) != std::string::npos);
    CHECK(no.err.find("try gradient checkpointing") != std::string::npos);

    CHECK(run("plan-profile", "--model '" + model.string() + "' --plan --profile tpu").code == 2);
    const auto t4 = run("plan-t4", "--model '" + model.string() + "' --plan --profile t4 --max-tokens 256");
    CHECK(t4.code == 0);
    CHECK(t4.last.at("profile") == "t4");
    CHECK(t4.last.at("load_device_bytes").get<std::int64_t>() > 0);
    CHECK(run("plan-missing", "--model /nonexistent/m.gguf --plan").code == 1);
}

TEST_CASE("hoprag-train-generator: bad configuration exits 2 naming the option", "[train_generator][program]") {
    const auto dir = test::fresh_dir("train-generator-bad");
    const std::string m = "--model x --out '" + (dir / "o").string() + "'";
    const auto check_usage = [&](const std::string& tag, const std::string& args, const std::string& needle) {
        const auto r = run(tag, args);
        INFO(tag << ": " << r.err);
        CHECK(r.code == 2);
        CHECK(r.err.find(needle) != std::string::npos);
        CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    };
    check_usage("no-model", "--out o", "--model PATH is required");
    check_usage("no-out", "--model m", "--out DIR is required");
    check_usage("unknown", m + " --frobnicate 1", "unknown option 'frobnicate'");
    check_usage("format", m + " --format yaml", "--format must be chat (auto), chatml, mistral, llama3 or plain");
    check_usage("lr", m + " --lr 0", "--lr > 0");
    check_usage("steps", m + " --session-steps -1", "--session-steps >= 0");
    check_usage("profile", m + " --profile tpu", "--profile must be auto or a profile");
    check_usage("compute", m + " --compute f8", "--compute must be auto, f32, bf16 or f16");
    check_usage("number", m + " --epochs two", "epochs");
    {
        std::ofstream(dir / "bad.yaml") << "seed: 1\nlearning_rate: 0.1\n";
        check_usage("yaml-key", m + " --config '" + (dir / "bad.yaml").string() + "'", "bad.yaml: key 'learning_rate': unknown option 'learning_rate'");
    }
    const auto missing = run("missing-model", "--model /nonexistent/model.gguf --out '" + (dir / "o2").string() + "' --train /nonexistent/t.jsonl");
    CHECK(missing.code == 1);
    CHECK(missing.err.find("/nonexistent/") != std::string::npos);
    const auto help = run("help", "--help");
    CHECK(help.code == 0);
    CHECK(help.out.find("--session-steps") != std::string::npos);
    CHECK(help.out.find("--plan") != std::string::npos);
}

TEST_CASE("hoprag-train-generator: a dev file without held-out questions is refused in one line", "[train_generator][program]") {
    const auto model = test::tiny_llama();
    const auto data = test::tiny_qa_data();
    const auto dir = test::fresh_dir("train-generator-no-heldout");
    {
        std::ofstream d(dir / "dev.jsonl");
        for (const auto& l : test::lines_of(data.second))
            if (!data::is_heldout(nlohmann::json::parse(l).at("_id").get<std::string>())) d << l << "\n";
    }
    const auto r = run("no-heldout", "--model '" + model.string() + "' --train '" + data.first.string() + "' --dev '" + (dir / "dev.jsonl").string() +
                                         "' --format plain --max-tokens 320 --max-steps 1 --out '" + (dir / "o").string() + "'");
    CHECK(r.code == 1);
    CHECK(r.err.find("no held-out question") != std::string::npos);
}

TEST_CASE("hoprag-train-generator --loss-scale: exact for a power of two, overflowing steps skipped as the scale backs off", "[train_generator][program]") {
    const auto model = test::tiny_llama();
    const auto data = test::tiny_qa_data();
    const auto base = test::fresh_dir("train-generator-loss-scale");
    const std::string args = common_args(model, data) + " --seed 4";
    const auto plain = run("ls-plain", args + " --out '" + (base / "plain").string() + "'");
    const auto scaled = run("ls-scaled", args + " --loss-scale 65536 --out '" + (base / "scaled").string() + "'");
    INFO(scaled.err);
    REQUIRE(plain.code == 0);
    REQUIRE(scaled.code == 0);
    // scaling by 2^16 and unscaling inside AdamW's grad_scale is exact: the same adapter bytes
    CHECK(latest_adapter(base / "scaled").at("adapter_model.safetensors") == latest_adapter(base / "plain").at("adapter_model.safetensors"));
    CHECK(scaled.last.at("skipped_steps") == 0);

    // near FLT_MAX: the first gradients overflow; those steps are skipped and logged, the scale halves each time
    const auto over = run("ls-over", args + " --loss-scale 3.4e38 --out '" + (base / "over").string() + "'");
    INFO(over.err);
    REQUIRE(over.code == 0);
    CHECK(over.last.at("stopped") == "max_steps");
    const auto skipped = over.last.at("skipped_steps").get<std::int64_t>();
    CHECK(skipped >= 1);
    CHECK(skipped < 8);
    CHECK(over.last.at("final_loss").is_number());
    CHECK(over.err.find("step skipped") != std::string::npos);
    double last_scale = 0;
    std::int64_t skip_lines = 0;
    for (const auto& l : test::lines_of(base / "over" / "metrics.jsonl")) {
        const auto j = nlohmann::json::parse(l);
        if (j.contains("skipped")) ++skip_lines;
        if (j.contains("loss_scale")) last_scale = j.at("loss_scale").get<double>();
    }
    CHECK(skip_lines == skipped);
    CHECK(last_scale == Approx(3.4e38 / std::pow(2.0, double(skipped))).epsilon(1e-6));
    CHECK(run("ls-bad", args + " --loss-scale -1 --out '" + (base / "bad").string() + "'").code == 2);
}

TEST_CASE("hoprag-train-generator --profile: t4 trains with f16 GEMMs and dynamic loss scaling, a100 with bf16", "[train_generator][program][mixed]") {
    const auto model = test::tiny_llama();
    const auto data = test::tiny_qa_data();
    const auto base = test::fresh_dir("train-generator-profile");
    const std::string args = common_args(model, data) + " --max-steps 3";
    const auto plain = run("p-cpu", args + " --profile cpu --out '" + (base / "cpu").string() + "'");
    const auto t4 = run("p-t4", args + " --profile t4 --out '" + (base / "t4").string() + "'");
    const auto a100 = run("p-a100", args + " --profile a100 --out '" + (base / "a100").string() + "'");
    const auto f32 = run("p-f32", args + " --profile t4 --compute f32 --out '" + (base / "f32").string() + "'");
    for (const auto* r : {&plain, &t4, &a100, &f32}) {
        INFO(r->err);
        REQUIRE(r->code == 0);
        CHECK(r->last.at("skipped_steps") == 0);
    }
    CHECK(plain.err.find("profile cpu on cpu: GEMMs in f32, loss scaling off") != std::string::npos);
    CHECK(t4.err.find("profile t4 on cpu: GEMMs in f16, loss scaling from 65536") != std::string::npos);
    CHECK(a100.err.find("profile a100 on cpu: GEMMs in bf16, loss scaling off") != std::string::npos);
    CHECK(f32.err.find("GEMMs in f32, loss scaling off") != std::string::npos);  // --compute beats the profile
    // the scale is logged with every t4 step; the 16-bit runs train close to, not equal to, f32
    std::int64_t scaled = 0;
    for (const auto& l : test::lines_of(base / "t4" / "metrics.jsonl"))
        if (const auto j = nlohmann::json::parse(l); j.contains("loss_scale") && j.at("loss_scale") == 65536.0) ++scaled;
    CHECK(scaled == 3);
    for (const auto& l : test::lines_of(base / "cpu" / "metrics.jsonl")) CHECK_FALSE(nlohmann::json::parse(l).contains("loss_scale"));  // off: not logged
    const double l32 = plain.last.at("final_loss").get<double>();
    for (const auto* r : {&t4, &a100}) {
        const double l = r->last.at("final_loss").get<double>();
        CHECK(l != l32);
        CHECK(std::abs(l - l32) < 0.05 * l32);
    }
    CHECK(latest_adapter(base / "f32").at("adapter_model.safetensors") == latest_adapter(base / "cpu").at("adapter_model.safetensors"));
}
