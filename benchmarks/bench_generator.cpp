// hoprag-bench-generator: SmolLM2-135M-Instruct (the Q4_1 GGUF, dequantised to f32 at load, or
// re-quantised to NF4) on the CPU backend — prefill tokens/s of a 512-token prompt and decode
// tokens/s of 128 one-token steps from an empty cache — against llama.cpp's llama-bench on the same
// GGUF file with the same thread count, run by this program right before each of our measurements
// (`-p 512 -n 0` / `-p 0 -n 128`, `-t T -r 3 -o json`: its pp512 and tg128 tests). The peer is built by benchmarks/build_llamacpp.sh from the
// llama-cpp-python sdist (path: $HOPRAG_LLAMA_BENCH or .cache/llama.cpp-build/bin/llama-bench).
// Counters: tokens_per_second, peer_tokens_per_second, ratio_vs_llamacpp_prefill /
// ratio_vs_llamacpp_decode (ours / peer, goal >= 1). decode128/nf4 runs the LM head from its bf16
// copy (the generator's default under nf4); decode128/nf4-f32head from the f32 head, for comparison. Also NF4 dequantise-GEMM (tile by tile) vs
// dequantise-the-whole-matrix-then-GEMM on the linears of SmolLM2 and Mistral-7B: counter
// ratio_vs_dequant_then_gemm (> 1: the fused path is faster). Threads: $HOPRAG_BENCH_THREADS [2].
// Run from the repository root (or set HOPRAG_SOURCE_DIR).
#include <benchmark/benchmark.h>
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hoprag/components/generator.hpp"
#include "hoprag/cpu/backend.hpp"
#include "hoprag/cpu/nf4_gemm.hpp"
#include "hoprag/core/rng.hpp"

using namespace hoprag;

namespace {

std::string source_root() {
    const char* env = std::getenv("HOPRAG_SOURCE_DIR");
    return env ? env : std::filesystem::current_path().string();
}
const std::string root = source_root();
const std::string gguf = root + "/.cache/models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf";

int bench_threads() {
    const char* env = std::getenv("HOPRAG_BENCH_THREADS");
    return env ? std::max(1, std::atoi(env)) : 2;
}

constexpr std::int64_t prompt_len = 512, decode_len = 128;

/// llama-bench's tokens/s for one test (pp512: n_prompt 512; tg128: n_gen 128), run right before
/// our own measurement of the same thing so that both see the same machine load.
struct peer_result {
    double tokens_per_second = 0;
    std::string error, build;
};
peer_result run_peer(std::int64_t n_prompt, std::int64_t n_gen) {
    peer_result p;
    const char* env = std::getenv("HOPRAG_LLAMA_BENCH");
    const std::string bin = env ? env : root + "/.cache/llama.cpp-build/bin/llama-bench";
    if (!std::filesystem::exists(bin)) {
        p.error = "llama-bench not found at " + bin + " (run benchmarks/build_llamacpp.sh or set HOPRAG_LLAMA_BENCH)";
        return p;
    }
    const std::string cmd = "'" + bin + "' -m '" + gguf + "' -p " + std::to_string(n_prompt) + " -n " + std::to_string(n_gen) + " -t " +
                            std::to_string(bench_threads()) + " -r 3 -o json 2>/dev/null";
    FILE* f = popen(cmd.c_str(), "r");
    std::string text;
    char buf[4096];
    while (f && !feof(f)) text.append(buf, fread(buf, 1, sizeof buf, f));
    if (!f || pclose(f) != 0) {
        p.error = "llama-bench failed: " + cmd;
        return p;
    }
    try {
        for (const auto& t : nlohmann::json::parse(text))
            if (t.at("n_prompt") == n_prompt && t.at("n_gen") == n_gen) {
                p.tokens_per_second = t.at("avg_ts").get<double>();
                p.build = t.value("build_commit", std::string()) + " " + t.value("cpu_info", std::string());
            }
    } catch (const std::exception& e) {
        p.error = std::string("cannot read llama-bench's JSON: ") + e.what();
    }
    if (p.error.empty() && p.tokens_per_second <= 0) p.error = "llama-bench's JSON lacks the test";
    return p;
}

template <class Quant>
using gen_t = components::generator<Quant, adapters::none, cpu::backend>;

template <class Quant>
gen_t<Quant>& model(cpu::context& ctx) {
    static std::unique_ptr<gen_t<Quant>> g = std::make_unique<gen_t<Quant>>(gen_t<Quant>::from_gguf(ctx, gguf));
    return *g;
}

cpu::context& the_context() {
    static cpu::context ctx;
    return ctx;
}

std::vector<std::int32_t> prompt_ids(std::int64_t vocab) {
    const philox_stream rng{42, 1};
    std::vector<std::int32_t> ids(static_cast<std::size_t>(prompt_len));
    for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<std::int32_t>(rng.uniform(i) * static_cast<float>(vocab - 1));
    return ids;
}

template <class Quant>
void bm_prefill(benchmark::State& state) {
    if (!std::filesystem::exists(gguf)) return state.SkipWithError(("missing " + gguf).c_str());
    auto& ctx = the_context();
    const auto& g = model<Quant>(ctx);
    const auto ids = prompt_ids(g.config().vocab_size);
    const auto p = run_peer(prompt_len, 0);
    double seconds = 0;
    for (auto _ : state) {
        models::llama::kv_cache<cpu::context> cache(ctx, g.config(), 1, prompt_len);
        const auto t0 = std::chrono::steady_clock::now();
        benchmark::DoNotOptimize(g.forward(ids, 1, prompt_len, {}, &cache));
        seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    const double ours = static_cast<double>(prompt_len * state.iterations()) / seconds;
    state.counters["tokens_per_second"] = ours;
    if (!p.error.empty()) return state.SetLabel("no ratio: " + p.error);
    state.SetLabel("llama.cpp " + p.build);
    state.counters["peer_tokens_per_second"] = p.tokens_per_second;
    state.counters["ratio_vs_llamacpp_prefill"] = ours / p.tokens_per_second;
}

/// Decode steps; under nf4 with the bf16 LM head (default) or, with F32Head, the f32 one.
template <class Quant, bool F32Head = false>
void bm_decode(benchmark::State& state) {
    if (!std::filesystem::exists(gguf)) return state.SkipWithError(("missing " + gguf).c_str());
    auto& ctx = the_context();
    auto& g = model<Quant>(ctx);
    if constexpr (Quant::quantizes) g.set_bf16_head(!F32Head);
    const auto ids = prompt_ids(g.config().vocab_size);
    const auto p = run_peer(0, decode_len);
    double seconds = 0;
    for (auto _ : state) {
        models::llama::kv_cache<cpu::context> cache(ctx, g.config(), 1, decode_len);
        const auto t0 = std::chrono::steady_clock::now();
        for (std::int64_t i = 0; i < decode_len; ++i)
            benchmark::DoNotOptimize(g.forward(std::span<const std::int32_t>(&ids[static_cast<std::size_t>(i)], 1), 1, 1, {}, &cache));
        seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    const double ours = static_cast<double>(decode_len * state.iterations()) / seconds;
    state.counters["tokens_per_second"] = ours;
    if (!p.error.empty()) return state.SetLabel("no ratio: " + p.error);
    state.SetLabel("llama.cpp " + p.build);
    state.counters["peer_tokens_per_second"] = p.tokens_per_second;
    state.counters["ratio_vs_llamacpp_decode"] = ours / p.tokens_per_second;
}

/// out [m, n] = x [m, k] W^T with W [n, k] in NF4: tile-wise dequantise-GEMM vs dequantise all, then GEMM.
void bm_nf4_gemm(benchmark::State& state, std::int64_t n, std::int64_t k, std::int64_t m) {
    auto& ctx = the_context();
    const philox_stream rng{7, static_cast<std::uint64_t>(n * k)};
    std::vector<float> w(static_cast<std::size_t>(n * k)), x(static_cast<std::size_t>(m * k)), out(static_cast<std::size_t>(m * n)),
        full(w.size());
    for (std::size_t i = 0; i < w.size(); ++i) w[i] = rng.uniform(i) - 0.5f;
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = rng.uniform(w.size() + i) - 0.5f;
    const auto q = quant::nf4_quantize(w, n, k);
    double fused = 0, peer_s = 0;
    for (auto _ : state) {
        auto t0 = std::chrono::steady_clock::now();
        cpu::nf4_gemm(ctx, out.data(), x.data(), q, m);
        benchmark::DoNotOptimize(out.data());
        auto t1 = std::chrono::steady_clock::now();
        quant::nf4_dequantize_rows(q, 0, n, full.data());
        gemm_desc d;
        d.m = m, d.n = n, d.k = k, d.trans_b = true;
        gemm(ctx, packed(d), x.data(), full.data(), out.data());
        benchmark::DoNotOptimize(out.data());
        auto t2 = std::chrono::steady_clock::now();
        fused += std::chrono::duration<double>(t1 - t0).count();
        peer_s += std::chrono::duration<double>(t2 - t1).count();
    }
    const double flop = 2.0 * double(m) * double(n) * double(k) * double(state.iterations());
    state.counters["gflops"] = flop / fused / 1e9;
    state.counters["peer_gflops"] = flop / peer_s / 1e9;
    state.counters["ratio_vs_dequant_then_gemm"] = peer_s / fused;
}

}  // namespace

int main(int argc, char** argv) {
    omp_set_num_threads(bench_threads());
    benchmark::AddCustomContext("threads", std::to_string(bench_threads()));
    benchmark::AddCustomContext("model", gguf);
    benchmark::RegisterBenchmark("prefill512/f32", bm_prefill<quant::none>)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
    benchmark::RegisterBenchmark("decode128/f32", bm_decode<quant::none>)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(2);
    benchmark::RegisterBenchmark("prefill512/nf4", bm_prefill<quant::nf4>)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
    benchmark::RegisterBenchmark("decode128/nf4", bm_decode<quant::nf4>)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(2);
    benchmark::RegisterBenchmark("decode128/nf4-f32head", bm_decode<quant::nf4, true>)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(2);
    struct shape {
        const char* name;
        std::int64_t n, k, m;
    };
    for (const shape s : {shape{"smollm2_q_576x576/m512", 576, 576, 512}, shape{"smollm2_gate_1536x576/m512", 1536, 576, 512},
                          shape{"smollm2_down_576x1536/m512", 576, 1536, 512}, shape{"smollm2_gate_1536x576/m1", 1536, 576, 1},
                          shape{"mistral_q_4096x4096/m128", 4096, 4096, 128}, shape{"mistral_gate_14336x4096/m128", 14336, 4096, 128},
                          shape{"mistral_down_4096x14336/m1", 4096, 14336, 1}})
        benchmark::RegisterBenchmark((std::string("nf4_gemm/") + s.name).c_str(), bm_nf4_gemm, s.n, s.k, s.m)
            ->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(s.n * s.k > 10'000'000 ? 2 : 10);
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
