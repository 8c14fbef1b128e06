// LoRA training step of SmolLM2-135M-Instruct on the CPU backend: generator<nf4, lora<16, 32>> (all
// seven linears), batch 1, gradient checkpointing on, loss on the last quarter of the tokens;
// loss_and_grads + one AdamW step per iteration. Counters: tokens_per_second (batch * seq per
// step), workspace_mib (planned activation memory) and peak_rss_mib (the process's peak resident
// set, which includes the NF4 base, the f32 embedding and the one-time f32 load). No peer runs
// here: PEFT on PyTorch CPU is the peer of hoprag-bench-qlora (issue 9).
#include <benchmark/benchmark.h>

#include <sys/resource.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "hoprag/adapters/lora_grads.hpp"
#include "hoprag/components/generator.hpp"
#include "hoprag/cpu/backend.hpp"
#include "hoprag/models/llama/lora_optimizer.hpp"
#include "hoprag/models/llama/train.hpp"

using namespace hoprag;
namespace llama = hoprag::models::llama;

namespace {

// Run from the repository root, or set HOPRAG_SOURCE_DIR.
const std::string gguf_path = std::string(std::getenv("HOPRAG_SOURCE_DIR") ? std::getenv("HOPRAG_SOURCE_DIR") : ".") + "/.cache/models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf";

double peak_rss_mib() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return double(u.ru_maxrss) / 1024.0;
}

template <class Quant>
void train_step(benchmark::State& state) {
    const std::int64_t seq = state.range(0), batch = 1;
    const bool checkpointing = state.range(1) != 0;
    cpu::context ctx;
    using gen_t = components::generator<Quant, adapters::lora<16, 32>, cpu::backend>;
    auto gen = gen_t::from_gguf(ctx, gguf_path, 1);
    // B non-zero as after some training (a fresh B = 0 would skip no work anyway)
    for (auto& layer : gen.adapter().layers)
        for (auto& m : layer) m.b.assign(std::vector<float>(m.b.size(), 1e-3f));
    const philox_stream s{7, 0};
    std::vector<std::int32_t> ids(static_cast<std::size_t>(batch * seq)), labels(ids.size(), llama::ignore_label);
    for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<std::int32_t>(s.bits(i) % 49152);
    for (std::size_t i = ids.size() * 3 / 4; i < ids.size(); ++i) labels[i] = ids[i];
    auto grads = adapters::make_lora_grad_set(ctx, gen.adapter());
    llama::lora_optimizer<cpu::context> opt(ctx, gen.adapter(), grads);
    llama::train_workspace<cpu::context> ws;
    llama::train_options o;
    o.checkpointing = checkpointing;
    std::int64_t t = 0;
    float loss = 0;
    for (auto _ : state) {
        adapters::zero_grads(ctx, grads);
        loss = llama::loss_and_grads(ctx, gen, ids, labels, batch, seq, grads, o, &ws);
        opt.step(ctx, train::make_adamw_step(train::adamw_hparams{}, ++t, 1e-4f));
    }
    state.counters["tokens_per_second"] = benchmark::Counter(double(batch * seq) * double(state.iterations()), benchmark::Counter::kIsRate);
    state.counters["workspace_mib"] = double(ws.bytes()) / (1024.0 * 1024.0);
    state.counters["peak_rss_mib"] = peak_rss_mib();
    state.counters["loss"] = loss;
}

}  // namespace

BENCHMARK_TEMPLATE(train_step, quant::nf4)->Args({256, 1})->Args({256, 0})->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(20.0);

BENCHMARK_MAIN();
