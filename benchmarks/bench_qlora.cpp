// QLoRA training throughput of SmolLM2-135M-Instruct on the CPU: generator<nf4, lora<16, 32>> (all
// seven linears, r16/alpha32), seq 256, batch 1, gradient checkpointing on, loss on the last quarter
// of the tokens, loss_and_grads + one AdamW step per iteration, HOPRAG_BENCH_THREADS threads [2];
// plus the same with an f32 base (apples to apples with the peer). The peer, PEFT 0.7 LoRA on
// PyTorch CPU with the same config, sequence, batch, threads and checkpointing
// (benchmarks/bench_qlora_peer.py, run with $HOPRAG_TORCH_PYTHON, else .venv-torch/bin/python from
// scripts/setup --peers, else /work/main/.venv-torch/bin/python),
// runs right before each measurement so both see the same machine load; its base is f32 because
// bitsandbytes' 4-bit layers do not run on the CPU. Counters: tokens_per_second, peer_tokens_per_second,
// ratio_vs_peft (ours / peer, > 1: hoprag is faster; goal >= 3), loss. Run from the repository root
// (or set HOPRAG_SOURCE_DIR).
#include <benchmark/benchmark.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hoprag/adapters/lora_grads.hpp"
#include "hoprag/components/generator.hpp"
#include "hoprag/cpu/backend.hpp"
#include "hoprag/io/gguf.hpp"
#include "hoprag/models/llama/lora_optimizer.hpp"
#include "hoprag/models/llama/train.hpp"

using namespace hoprag;
namespace llama = hoprag::models::llama;

namespace {

std::string source_root() {
    const char* env = std::getenv("HOPRAG_SOURCE_DIR");
    return env ? env : std::filesystem::current_path().string();
}
const std::string root = source_root();
const std::string gguf = root + "/.cache/models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf";
constexpr std::int64_t seq = 256, batch = 1, peer_steps = 3;

int bench_threads() {
    const char* env = std::getenv("HOPRAG_BENCH_THREADS");
    return env ? std::max(1, std::atoi(env)) : 2;
}

/// PEFT's tokens/s on the model's config (random f32 weights), or nullopt when the peer cannot run.
std::optional<nlohmann::json> peer() {
    const auto c = llama::config_from_gguf(io::gguf_file(gguf));
    const auto cfg_file = std::filesystem::temp_directory_path() / "hoprag_bench_qlora_config.json";
    std::ofstream(cfg_file) << nlohmann::json{{"vocab_size", c.vocab_size},
                                              {"hidden_size", c.hidden_size},
                                              {"intermediate_size", c.intermediate_size},
                                              {"num_hidden_layers", c.num_layers},
                                              {"num_attention_heads", c.num_heads},
                                              {"num_key_value_heads", c.num_kv_heads},
                                              {"max_position_embeddings", std::max<std::int64_t>(c.max_position_embeddings, seq)},
                                              {"rms_norm_eps", c.rms_norm_eps},
                                              {"rope_theta", c.rope_theta},
                                              {"tie_word_embeddings", c.tie_word_embeddings}}
                                                 .dump();
    const char* env = std::getenv("HOPRAG_TORCH_PYTHON");
    const std::string own = root + "/.venv-torch/bin/python";  // scripts/setup --peers
    const std::string python = env ? env : std::filesystem::exists(own) ? own : "/work/main/.venv-torch/bin/python";
    const std::string cmd = python + " " + root + "/benchmarks/bench_qlora_peer.py " + cfg_file.string() + " " + std::to_string(seq) + " " +
                            std::to_string(batch) + " " + std::to_string(bench_threads()) + " " + std::to_string(peer_steps) + " 2>/dev/null";
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) return std::nullopt;
    std::string out;
    char buf[512];
    while (std::fgets(buf, sizeof buf, p)) out += buf;
    if (pclose(p) != 0) return std::nullopt;
    const auto at = out.rfind('{');
    if (at == std::string::npos) return std::nullopt;
    return nlohmann::json::parse(out.substr(at));
}

template <class Quant>
void train_step(benchmark::State& state) {
    if (!std::filesystem::exists(gguf)) {
        state.SkipWithError(("model missing: " + gguf).c_str());
        return;
    }
    const auto pr = peer();
    cpu::context ctx;
    using gen_t = components::generator<Quant, adapters::lora<16, 32>, cpu::backend>;
    auto gen = gen_t::from_gguf(ctx, gguf, 1);
    for (auto& layer : gen.adapter().layers)  // B non-zero as after some training
        for (auto& m : layer) m.b.assign(std::vector<float>(m.b.size(), 1e-3f));
    const philox_stream s{7, 0};
    std::vector<std::int32_t> ids(static_cast<std::size_t>(batch * seq)), labels(ids.size(), llama::ignore_label);
    for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<std::int32_t>(s.bits(i) % static_cast<std::uint64_t>(gen.config().vocab_size));
    for (std::size_t i = ids.size() * 3 / 4; i < ids.size(); ++i) labels[i] = ids[i];
    auto grads = adapters::make_lora_grad_set(ctx, gen.adapter());
    llama::lora_optimizer<cpu::context> opt(ctx, gen.adapter(), grads);
    llama::train_workspace<cpu::context> ws;
    llama::train_options o;
    o.checkpointing = true;
    std::int64_t t = 0;
    float loss = 0;
    const auto one_step = [&] {
        adapters::zero_grads(ctx, grads);
        loss = llama::loss_and_grads(ctx, gen, ids, labels, batch, seq, grads, o, &ws);
        opt.step(ctx, train::make_adamw_step(train::adamw_hparams{}, ++t, 1e-4f));
    };
    one_step();  // warm-up (workspace, oneDNN primitives), as the peer's
    const auto t0 = std::chrono::steady_clock::now();
    for (auto _ : state) one_step();
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double ours = double(batch * seq) * double(state.iterations()) / secs;
    state.counters["tokens_per_second"] = ours;
    state.counters["loss"] = loss;
    if (pr) {
        state.counters["peer_tokens_per_second"] = (*pr)["tokens_per_second"].get<double>();
        state.counters["peer_seconds_per_step"] = (*pr)["seconds_per_step"].get<double>();
        state.counters["ratio_vs_peft"] = ours / (*pr)["tokens_per_second"].get<double>();
    } else {
        state.SkipWithError("peer (PEFT on PyTorch via $HOPRAG_TORCH_PYTHON or /work/main/.venv-torch/bin/python) unavailable: no ratio");
    }
}

}  // namespace

int main(int argc, char** argv) {
    omp_set_num_threads(bench_threads());
    benchmark::AddCustomContext("threads", std::to_string(bench_threads()));
    benchmark::AddCustomContext("model", gguf);
    benchmark::AddCustomContext("config", "lora r16 alpha32 all-linear, seq 256, batch 1, checkpointing, peer: PEFT 0.7 f32 base");
    benchmark::RegisterBenchmark("qlora_nf4/seq256", train_step<quant::nf4>)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
    benchmark::RegisterBenchmark("lora_f32/seq256", train_step<quant::none>)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
