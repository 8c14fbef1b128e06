// Memory plan: Mistral-7B-Instruct-v0.2 (config in tests/golden/mistral_7b_instruct_v0.2_config.json,
// values from its config.json) under QLoRA r=16 on all seven linears. Every term is checked against
// a value computed by hand in this file from the config (7,241,732,096 parameters; NF4 bytes per
// matrix codes n/2 + absmax n/64 + 4 ceil(n/16384) + 4), the NF4 byte count against a real
// quant::nf4_tensor, and the verdicts: fits T4 at 2048 with checkpointing and A100-40GB at 4096;
// refused on T4 without checkpointing (largest term: activations) or without NF4 (largest term:
// base linears). hoprag-plan-memory is run as a program for the same cases.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hoprag/adapters/lora.hpp"
#include "hoprag/core/rng.hpp"
#include "hoprag/models/llama/config.hpp"
#include "hoprag/train/memory_plan.hpp"
#include "support/files.hpp"
#include "support/reference.hpp"

using namespace hoprag;
namespace fs = std::filesystem;

namespace {

const std::string mistral_path = test::source_dir() + "/tests/golden/mistral_7b_instruct_v0.2_config.json";

models::llama::config mistral() { return models::llama::load_config(mistral_path); }

train::memory_request qlora(std::int64_t seq, bool checkpointing = true) {
    train::memory_request r;
    r.seq = seq, r.batch = 1, r.checkpointing = checkpointing;
    return r;
}

// Hand-computed from the config: H 4096, Q 32*128 = 4096, K 8*128 = 1024, F 14336, V 32000, L 32.
constexpr std::size_t linear_params_per_layer = 2 * 4096ull * 4096 + 2 * 1024ull * 4096 + 3 * 14336ull * 4096;  // 218,103,808
constexpr std::size_t other_params = 2 * 32000ull * 4096 + (2 * 32 + 1) * 4096ull;                           // 262,410,240
// NF4 bytes: q and o (n = 16,777,216): 8,388,608 + 262,144 + 4 * 1024 + 4; k and v (n = 4,194,304):
// 2,097,152 + 65,536 + 4 * 256 + 4; gate, up, down (n = 58,720,256): 29,360,128 + 917,504 + 4 * 3584 + 4.
constexpr std::size_t nf4_per_layer = 2 * 8654852ull + 2 * 2163716ull + 3 * 30291972ull;  // 112,513,052
// LoRA r=16: r (in + out) per linear.
constexpr std::size_t lora_params = 32 * 16 * (2 * (4096 + 4096) + 2 * (4096 + 1024) + 3 * (4096 + 14336ull));  // 41,943,040
// per layer and token, f32 activations: (4H + 2Q + 2K + 3F + 7r) * 4 + 8 = 69,744 * 4 + 8
constexpr std::size_t per_token = (4 * 4096 + 2 * 4096 + 2 * 1024 + 3 * 14336 + 7 * 16) * 4 + 8;

int run_program(const std::string& tag, const std::string& args, std::string& out, std::string& err) {
    const fs::path prog = fs::path(test::binary_dir()) / "bin" / "hoprag-plan-memory";
    INFO("the program must be built: " << prog);
    REQUIRE(fs::exists(prog));
    const auto dir = test::fresh_dir("plan-memory-" + tag);
    const std::string cmd = "'" + prog.string() + "' " + args + " > '" + (dir / "out").string() + "' 2> '" + (dir / "err").string() + "'";
    const int status = std::system(cmd.c_str());
    out = test::slurp(dir / "out"), err = test::slurp(dir / "err");
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST_CASE("memory plan: the Mistral-7B-Instruct-v0.2 fixture carries its config.json values", "[memory_plan]") {
    const auto c = mistral();
    CHECK(c.hidden_size == 4096);
    CHECK(c.intermediate_size == 14336);
    CHECK(c.num_layers == 32);
    CHECK(c.num_heads == 32);
    CHECK(c.num_kv_heads == 8);
    CHECK(c.head_dim == 128);
    CHECK(c.vocab_size == 32000);
    CHECK(c.rope_theta == 1e6);
    CHECK(c.sliding_window == 0);
    CHECK(c.rms_norm_eps == 1e-5);
    CHECK_FALSE(c.tie_word_embeddings);
}

TEST_CASE("memory plan: Mistral-7B QLoRA terms equal the hand-computed values and fit a T4 at 2048", "[memory_plan]") {
    const auto p = train::plan_memory(mistral(), info_of<t4_profile>(), qlora(2048));
    CHECK(p.parameters == 7241732096);
    CHECK(static_cast<std::size_t>(p.parameters) == 32 * linear_params_per_layer + other_params);
    CHECK(p.adapter_parameters == static_cast<std::int64_t>(lora_params));
    CHECK(lora_params == 41943040);
    CHECK(p.bytes_of("base linears") == 32 * nf4_per_layer);
    const double bits = 8.0 * double(p.bytes_of("base linears")) / double(32 * linear_params_per_layer);
    CHECK(bits == Approx(quant::nf4::bits_per_parameter).epsilon(1e-4));
    CHECK(bits == Approx(4.127).margin(0.001));
    CHECK(p.bytes_of("base embeddings, head, norms") == other_params * 4);  // f32 as loaded
    CHECK(p.bytes_of("adapters") == lora_params * 4);
    CHECK(p.bytes_of("gradients") == lora_params * 4);
    CHECK(p.bytes_of("optimiser state") == lora_params * 8);
    const std::size_t probs = 32ull * 2048 * 2048 * 4;
    CHECK(p.bytes_of("activations") == 32ull * 2048 * 4096 * 4 + 2048 * per_token + probs);
    CHECK(p.bytes_of("backward scratch") == 2048ull * (2 * 4096 + 4096 + 2 * 1024 + 2 * 14336) * 4 + probs);
    CHECK(p.bytes_of("logits") == 2048ull * 32000 * 4);
    CHECK(p.bytes_of("KV cache") == 0);  // training
    // T4 computes in f16: a decoded tile of 1024 rows of down_proj [4096, 14336] and the rounded
    // GEMM input [2048, 14336], both 2 B
    CHECK(p.bytes_of("workspace") == 32 * train::mib + 1024ull * 14336 * 2 + 2048ull * 14336 * 2);
    CHECK(p.bytes_of("reserve") == 512 * train::mib);
    std::size_t sum = 0;
    for (const auto& t : p.terms) sum += t.bytes;
    CHECK(p.total == sum);
    CHECK(p.budget == 15 * gib);
    CHECK(p.fits);
    CHECK(p.largest().name == "base linears");
    CHECK_NOTHROW(train::require_fits(p));
    // loading streams bf16 tensors into NF4: the host holds the embedding once as f32 plus its
    // mapped bf16 pages; the device holds the resident model with f32 embedding, head and norms
    CHECK(p.load_host.bytes == 32000ull * 4096 * (4 + 2));
    CHECK(p.load_device.bytes == 32 * nf4_per_layer + other_params * 4);
    const auto cpu = train::plan_memory(mistral(), info_of<cpu_profile>(), qlora(2048));
    CHECK(cpu.load_device.bytes == 0);
    CHECK(cpu.load_host.bytes == p.load_host.bytes + p.load_device.bytes + 32000ull * 4096 * 2);  // + the bf16 head copy
    CHECK(train::plan_table(p).find("load peak, host") != std::string::npos);
    CHECK(train::plan_json(p).at("load_device_bytes") == p.load_device.bytes);
    // the same request from the policy types of generator<nf4, lora<16, 32, all>>
    const auto r = train::training_request<quant::nf4, adapters::lora<16, 32>>(2048, 1);
    CHECK(train::plan_memory(mistral(), info_of<t4_profile>(), r).total == p.total);
}

TEST_CASE("memory plan: Mistral-7B QLoRA fits an A100 (40 GB) at 4096, not without checkpointing", "[memory_plan]") {
    const auto p = train::plan_memory(mistral(), info_of<a100_profile>(), qlora(4096));
    CHECK(p.budget == 39 * gib);
    CHECK(p.fits);
    const std::size_t probs = 32ull * 4096 * 4096 * 4;
    CHECK(p.bytes_of("activations") == 32ull * 4096 * 4096 * 4 + 4096 * per_token + probs);
    CHECK(p.bytes_of("workspace") == 32 * train::mib + 1024ull * 14336 * 2 + 4096ull * 14336 * 2);  // bf16
    const auto nock = train::plan_memory(mistral(), info_of<a100_profile>(), qlora(4096, false));
    CHECK(nock.bytes_of("activations") == 32 * (4096 * per_token + probs));
    CHECK_FALSE(nock.fits);
    auto big = qlora(1024, false);
    big.memory_bytes = 79 * gib;  // the 80 GB card: without checkpointing at 1024
    CHECK(train::plan_memory(mistral(), info_of<a100_profile>(), big).fits);
}

TEST_CASE("memory plan: T4 refuses no checkpointing and unquantised bases, naming the largest term", "[memory_plan]") {
    const auto nock = train::plan_memory(mistral(), info_of<t4_profile>(), qlora(2048, false));
    CHECK_FALSE(nock.fits);
    CHECK(nock.bytes_of("activations") == 32 * (2048 * per_token + 32ull * 2048 * 2048 * 4));
    CHECK_THROWS_WITH(train::require_fits(nock), Catch::Contains("largest term is activations") && Catch::Contains("profile t4"));
    CHECK_THROWS_AS(train::require_fits(nock), config_error);

    auto r = qlora(2048);
    r.quant = train::plan_quant::none;
    const auto dense = train::plan_memory(mistral(), info_of<t4_profile>(), r);
    CHECK(dense.bytes_of("base linears") == 32 * linear_params_per_layer * 4);  // f32 as loaded
    CHECK_FALSE(dense.fits);
    CHECK_THROWS_WITH(train::require_fits(dense), Catch::Contains("largest term is base linears"));
}

TEST_CASE("memory plan: inference has a KV cache and no optimiser, bad requests are refused", "[memory_plan]") {
    auto r = qlora(4096);
    r.mode = train::plan_mode::inference;
    r.lora_rank = 0;
    const auto p = train::plan_memory(mistral(), info_of<t4_profile>(), r);
    CHECK(p.bytes_of("KV cache") == 2ull * 32 * 4096 * 1024 * 4);
    CHECK(p.bytes_of("optimiser state") == 0);
    CHECK(p.bytes_of("gradients") == 0);
    CHECK(p.bytes_of("adapters") == 0);
    CHECK(p.bytes_of("logits") == 32000ull * 4);
    CHECK(p.fits);

    auto bad = qlora(0);
    CHECK_THROWS_AS(train::plan_memory(mistral(), info_of<t4_profile>(), bad), config_error);
    auto untrainable = qlora(128);
    untrainable.lora_rank = 0;
    CHECK_THROWS_WITH(train::plan_memory(mistral(), info_of<t4_profile>(), untrainable), Catch::Contains("training needs an adapter"));
    // the cpu profile computes in f32, keeps a bf16 copy of the NF4 model's LM head, no GPU
    // reserve, and decodes 256-row f32 tiles
    const auto cpu = train::plan_memory(mistral(), info_of<cpu_profile>(), qlora(128));
    CHECK(cpu.bytes_of("base embeddings, head, norms") == other_params * 4 + 32000ull * 4096 * 2);
    CHECK(cpu.bytes_of("reserve") == 0);
    CHECK(cpu.bytes_of("workspace") == 256ull * 14336 * 4);
}

TEST_CASE("memory plan: NF4 bytes equal a real nf4_tensor's storage", "[memory_plan]") {
    for (std::int64_t rows : {1, 3, 96, 300}) {
        const std::int64_t cols = 64 * 5;
        std::vector<float> w(static_cast<std::size_t>(rows * cols));
        const philox_stream rng{7, static_cast<std::uint64_t>(rows)};
        for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(rng.uniform(i) - 0.5);
        const auto t = quant::nf4_quantize(w, rows, cols);
        INFO("rows " << rows);
        CHECK(train::detail::nf4_matrix_bytes(rows * cols) == t.storage_bytes());
    }
}

TEST_CASE("hoprag-plan-memory: verdicts, JSON on stdout, largest term named on refusal", "[memory_plan][program]") {
    std::string out, err;
    const std::string cfg = "--config '" + mistral_path + "' ";
    CHECK(run_program("t4", cfg + "--profile t4 --seq 2048", out, err) == 0);
    auto j = nlohmann::json::parse(out);
    CHECK(j.at("fits") == true);
    CHECK(j.at("parameters") == 7241732096);
    CHECK(j.at("terms").at("base linears") == 32 * nf4_per_layer);
    CHECK(err.find("base linears") != std::string::npos);  // the table

    CHECK(run_program("a100", cfg + "--profile a100 --seq 4096", out, err) == 0);
    CHECK(nlohmann::json::parse(out).at("fits") == true);

    CHECK(run_program("nock", cfg + "--profile t4 --seq 2048 --no-checkpointing", out, err) == 1);
    j = nlohmann::json::parse(out);
    CHECK(j.at("fits") == false);
    CHECK(j.at("largest_term") == "activations");
    CHECK(err.find("hoprag-plan-memory: memory plan: ") != std::string::npos);
    CHECK(err.find("the largest term is activations") != std::string::npos);

    CHECK(run_program("none", cfg + "--profile t4 --seq 2048 --quant none", out, err) == 1);
    CHECK(err.find("the largest term is base linears") != std::string::npos);

    CHECK(run_program("missing", "--config /nonexistent/config.json --profile t4 --seq 8", out, err) == 1);
    CHECK(err.find("/nonexistent/config.json: no such file") != std::string::npos);
    CHECK(run_program("bad-profile", cfg + "--profile v100 --seq 8", out, err) == 2);
    CHECK(run_program("no-seq", cfg + "--profile t4", out, err) == 2);
}
