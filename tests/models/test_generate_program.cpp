// hoprag-generate as a child process on SmolLM2-135M-Instruct (Q4_1 GGUF): the greedy tokens of two
// HotpotQA questions (--chat) equal the golden PyTorch continuation in tests/golden/llama_smollm2.json
// (first 8 of its 32 tokens, to keep the test short) with the same prompt token count, and the
// text is the tokenizer's decoding of the tokens; a stop string ends generation at the token that
// completes it and cuts the text before it; sampling is reproducible from the seed; bad input
// (non-JSON line, JSON that is not a string, missing model file, unknown flag) exits non-zero with
// one line naming the line or file, after the earlier prompts' results were printed; --quant nf4 and
// --adapter (a PEFT folder) give the tokens of the library's generator with the same settings.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hoprag/components/generator.hpp"
#include "hoprag/cpu/backend.hpp"
#include "hoprag/tokenizers/load_tokenizer.hpp"
#include "support/files.hpp"
#include "support/reference.hpp"

using namespace hoprag;
namespace fs = std::filesystem;

namespace {

const fs::path model_path = fs::path(test::source_dir()) / ".cache/models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf";

struct result {
    int code = -1;
    std::vector<nlohmann::json> lines;  // stdout, one JSON object per line
    std::string err;
};

/// Runs hoprag-generate with `args` on `input` as stdin.
result run(const std::string& tag, const std::string& input, const std::string& args) {
    const fs::path prog = fs::path(test::binary_dir()) / "bin" / "hoprag-generate";
    INFO("the program must be built: " << prog);
    REQUIRE(fs::exists(prog));
    const auto dir = test::fresh_dir("generate-" + tag);
    std::ofstream(dir / "in.jsonl") << input;
    // one thread, passive waits: the test machine's cores are shared
    const std::string cmd = "OMP_NUM_THREADS=1 OMP_WAIT_POLICY=passive '" + prog.string() + "' " + args + " < '" + (dir / "in.jsonl").string() +
                            "' > '" + (dir / "out").string() + "' 2> '" + (dir / "err").string() + "'";
    const int status = std::system(cmd.c_str());
    result r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.err = test::slurp(dir / "err");
    std::istringstream out(test::slurp(dir / "out"));
    for (std::string line; std::getline(out, line);)
        if (!line.empty() && line[0] == '{') r.lines.push_back(nlohmann::json::parse(line));
    return r;
}

nlohmann::json golden() {
    std::ifstream f(test::source_dir() + "/tests/golden/llama_smollm2.json");
    REQUIRE(f.good());
    return nlohmann::json::parse(f);
}

std::string last_line(const std::string& s) {
    auto t = s;
    while (!t.empty() && t.back() == '\n') t.pop_back();
    const auto at = t.rfind('\n');
    return at == std::string::npos ? t : t.substr(at + 1);
}

}  // namespace

TEST_CASE("text_before_stop cuts at the earliest stop string", "[generate]") {
    CHECK(models::llama::text_before_stop("Paris.\nNext [1]", {"[1]", "\n"}) == "Paris.");
    CHECK(models::llama::text_before_stop("Paris", {"\n"}) == "Paris");
    CHECK(models::llama::text_before_stop("abc", {}) == "abc");
}

TEST_CASE("hoprag-generate: greedy tokens equal the golden SmolLM2 continuation", "[generate][golden][program]") {
    if (!fs::exists(model_path)) FAIL("model file missing: " << model_path);
    const auto gold = golden();
    const auto& prompts = gold.at("prompts");
    std::string input;
    for (std::size_t i : {0, 1}) input += nlohmann::json(prompts[i].at("question").get<std::string>()).dump() + "\n";
    const auto r = run("golden", input, "--model '" + model_path.string() + "' --chat --no-eos --max-new-tokens 8");
    INFO(r.err);
    REQUIRE(r.code == 0);
    // naming the template SmolLM2's tokenizer implies gives the same tokens
    CHECK(run("golden-chatml", input, "--model '" + model_path.string() + "' --chat-format chatml --no-eos --max-new-tokens 8").lines == r.lines);
    REQUIRE(r.lines.size() == 2);
    const auto tok = tokenizers::load_tokenizer(model_path);
    for (std::size_t i : {0, 1}) {
        const auto& out = r.lines[i];
        auto want = prompts[i].at("greedy").get<std::vector<std::int32_t>>();
        want.resize(8);
        const auto got = out.at("tokens").get<std::vector<std::int32_t>>();
        INFO("prompt " << i);
        CHECK(got == want);
        CHECK(out.at("prompt_tokens").get<std::size_t>() == prompts[i].at("ids").size());
        CHECK(out.at("text").get<std::string>() == tok.decode(got));
        CHECK(out.at("stop_reason") == "max_tokens");
    }

    SECTION("a stop string ends generation at the token that completes it") {
        // golden continuation of prompt 0: "The Lady, a magazine that was ..."
        const auto s = run("stop", input.substr(0, input.find('\n') + 1),
                           "--model '" + model_path.string() + "' --chat --max-new-tokens 32 --stop ' magazine' --stop 'zebra'");
        INFO(s.err);
        REQUIRE(s.code == 0);
        REQUIRE(s.lines.size() == 1);
        auto want = prompts[0].at("greedy").get<std::vector<std::int32_t>>();
        want.resize(5);  // "The", " Lady", ",", " a", " magazine"
        CHECK(s.lines[0].at("tokens").get<std::vector<std::int32_t>>() == want);
        CHECK(s.lines[0].at("text") == "The Lady, a");
        CHECK(s.lines[0].at("stop_reason") == "stop_string");
    }
}

TEST_CASE("hoprag-generate: sampling is reproducible from the seed", "[generate][program]") {
    if (!fs::exists(model_path)) FAIL("model file missing: " << model_path);
    const std::string input = "\"Name a color.\"\n";
    const std::string args = "--model '" + model_path.string() + "' --chat --max-new-tokens 4 --no-eos --temperature 1.5 --top-p 0.95 ";
    const auto a = run("sample-a", input, args + "--seed 11"), b = run("sample-b", input, args + "--seed 11");
    INFO(a.err << b.err);
    REQUIRE(a.code == 0);
    REQUIRE(b.code == 0);
    REQUIRE(a.lines.size() == 1);
    REQUIRE(b.lines.size() == 1);
    CHECK(a.lines[0].at("tokens").size() == 4);
    CHECK(a.lines[0].at("tokens") == b.lines[0].at("tokens"));
    CHECK(a.lines[0].at("text") == b.lines[0].at("text"));
}

TEST_CASE("hoprag-generate: bad input exits non-zero with one line naming where", "[generate][program]") {
    if (!fs::exists(model_path)) FAIL("model file missing: " << model_path);
    const std::string model = "--model '" + model_path.string() + "' --max-new-tokens 0";

    SECTION("a line that is not JSON names its line number; earlier prompts were answered") {
        const auto r = run("bad-json", "\"fine\"\n{oops\n\"never\"\n", model);
        CHECK(r.code == 1);
        CHECK(r.lines.size() == 1);
        CHECK(last_line(r.err).find("stdin line 2: not valid JSON") != std::string::npos);
    }
    SECTION("JSON that is not a string") {
        const auto r = run("not-string", "42\n", model);
        CHECK(r.code == 1);
        CHECK(r.lines.empty());
        CHECK(last_line(r.err).find("stdin line 1: expected a JSON string, found a JSON number") != std::string::npos);
    }
    SECTION("missing model file") {
        const auto r = run("no-model", "\"x\"\n", "--model /nonexistent/model.gguf");
        CHECK(r.code == 1);
        CHECK(r.err.find("/nonexistent/model.gguf: no such file or folder") != std::string::npos);
        CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    }
    SECTION("usage errors exit 2") {
        CHECK(run("bad-flag", "", model + " --frobnicate").code == 2);
        CHECK(run("bad-quant", "", model + " --quant int3").code == 2);
        CHECK(run("bad-chat-format", "", model + " --chat-format vicuna").code == 2);
        CHECK(run("no-model-flag", "", "").code == 2);
        const auto h = run("help", "", "--help");
        CHECK(h.code == 0);
        CHECK(h.lines.empty());
    }
}

TEST_CASE("hoprag-generate: --quant nf4 and --adapter give the library generator's tokens", "[generate][program]") {
    if (!fs::exists(model_path)) FAIL("model file missing: " << model_path);
    const auto gold = golden();
    const auto& p0 = gold.at("prompts")[0];
    const auto prompt = p0.at("ids").get<std::vector<std::int32_t>>();
    const std::string input = nlohmann::json(p0.at("question").get<std::string>()).dump() + "\n";
    const auto adapter_dir = test::fresh_dir("generate-adapter-folder");
    const std::string adapter = adapter_dir.string();
    models::llama::generate_options o;
    o.max_new_tokens = 6;
    o.stop_at_eos = false;
    cpu::context ctx;

    const auto q = run("nf4", input, "--model '" + model_path.string() + "' --chat --no-eos --max-new-tokens 6 --quant nf4");
    INFO(q.err);
    REQUIRE(q.code == 0);
    REQUIRE(q.lines.size() == 1);
    const auto nf4 = components::generator<quant::nf4, adapters::none, cpu::backend>::from_gguf(ctx, model_path);
    CHECK(q.lines[0].at("tokens").get<std::vector<std::int32_t>>() == nf4.generate(prompt, o).tokens);

    const auto base = components::generator<quant::none, adapters::none, cpu::backend>::from_gguf(ctx, model_path);
    {  // a rank-4 adapter on all seven linears with large random B, written as a PEFT folder
        auto fresh = models::llama::make_lora_adapters(ctx, base.config(), 4, 8.0, adapters::all_targets, 5);
        std::uint64_t seed = 100;
        for (auto& layer : fresh.layers)
            for (auto& l : layer)
                if (!l.empty()) l.b = buffer<cpu::context, float>(ctx, test::random_floats(static_cast<std::size_t>(l.out * l.rank), ++seed, -1.0f, 1.0f));
        models::llama::save_peft(adapter_dir, fresh, "HuggingFaceTB/SmolLM2-135M-Instruct");
    }
    const auto a = run("adapter", input, "--model '" + model_path.string() + "' --chat --no-eos --max-new-tokens 6 --adapter '" + adapter + "'");
    INFO(a.err);
    REQUIRE(a.code == 0);
    REQUIRE(a.lines.size() == 1);
    const auto lora = models::llama::load_peft(ctx, adapter, base.config());
    auto lin = base.make_linears();
    lin.lora = &lora;
    const auto with_adapter = models::llama::generate(ctx, base.model(), prompt, o, {}, lin).tokens;
    CHECK(a.lines[0].at("tokens").get<std::vector<std::int32_t>>() == with_adapter);
    CHECK(with_adapter != base.generate(prompt, o).tokens);  // the adapter changed the output

    const auto bad = run("bad-adapter", input, "--model '" + model_path.string() + "' --max-new-tokens 0 --adapter /nonexistent/adapter");
    CHECK(bad.code == 1);
    CHECK(bad.err.find("/nonexistent/adapter: not a folder") != std::string::npos);
}
