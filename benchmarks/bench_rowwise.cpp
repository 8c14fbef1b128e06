// Benchmarks of the CPU row-wise ops against oneDNN (the named peer, same process, same threads):
// LayerNorm forward (rows x cols of MiniLM and SmolLM2 hidden sizes) and exact-erf GELU forward.
// After Google Benchmark's usual table it prints one line per pair with the time ratio
// hoprag / oneDNN (below 1 = hoprag faster). Run: build/bin/hoprag-bench-rowwise.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "hoprag/core/rng.hpp"
#include "hoprag/cpu/backend.hpp"

namespace {

using namespace hoprag;

std::vector<float> random_vector(std::size_t n, std::uint64_t stream) {
    const philox_stream s{42, stream};
    std::vector<float> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = 2.0f * s.uniform(i) - 1.0f;
    return v;
}

constexpr float eps = 1e-5f;

void layernorm_hoprag(benchmark::State& state) {
    const std::int64_t rows = state.range(0), cols = state.range(1);
    cpu::context ctx;
    const auto x = random_vector(rows * cols, 1), w = random_vector(cols, 2), b = random_vector(cols, 3);
    std::vector<float> out(rows * cols), mean(rows), rstd(rows);
    for (auto _ : state) {
        cpu::layernorm_forward(ctx, out.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), rows, cols,
                               eps);
        benchmark::DoNotOptimize(out.data());
    }
    state.SetBytesProcessed(state.iterations() * rows * cols * 8);
}

void layernorm_onednn(benchmark::State& state) {
    const std::int64_t rows = state.range(0), cols = state.range(1);
    using namespace dnnl;
    engine eng(engine::kind::cpu, 0);
    stream s(eng);
    const memory::desc md({rows, cols}, memory::data_type::f32, memory::format_tag::ab);
    const memory::desc sd({rows}, memory::data_type::f32, memory::format_tag::a);
    const memory::desc wd({cols}, memory::data_type::f32, memory::format_tag::a);
    const layer_normalization_forward::desc d(prop_kind::forward_training, md, sd, eps,
                                              normalization_flags::use_scale | normalization_flags::use_shift);
    const layer_normalization_forward::primitive_desc pd(d, eng);
    auto x = random_vector(rows * cols, 1), w = random_vector(cols, 2), b = random_vector(cols, 3);
    std::vector<float> out(rows * cols), mean(rows), var(rows);
    memory mx(md, eng, x.data()), mo(md, eng, out.data()), mw(wd, eng, w.data()), mb(wd, eng, b.data()),
        mm(sd, eng, mean.data()), mv(sd, eng, var.data());
    layer_normalization_forward prim(pd);
    for (auto _ : state) {
        prim.execute(s, {{DNNL_ARG_SRC, mx},
                         {DNNL_ARG_DST, mo},
                         {DNNL_ARG_SCALE, mw},
                         {DNNL_ARG_SHIFT, mb},
                         {DNNL_ARG_MEAN, mm},
                         {DNNL_ARG_VARIANCE, mv}});
        s.wait();
        benchmark::DoNotOptimize(out.data());
    }
    state.SetBytesProcessed(state.iterations() * rows * cols * 8);
}

void gelu_hoprag(benchmark::State& state) {
    const std::int64_t n = state.range(0);
    cpu::context ctx;
    const auto x = random_vector(n, 4);
    std::vector<float> out(n);
    for (auto _ : state) {
        cpu::gelu_forward(ctx, out.data(), x.data(), n, gelu_kind::erf);
        benchmark::DoNotOptimize(out.data());
    }
    state.SetBytesProcessed(state.iterations() * n * 8);
}

void gelu_onednn(benchmark::State& state) {
    const std::int64_t n = state.range(0);
    using namespace dnnl;
    engine eng(engine::kind::cpu, 0);
    stream s(eng);
    const memory::desc md({n}, memory::data_type::f32, memory::format_tag::a);
    const eltwise_forward::desc d(prop_kind::forward_inference, algorithm::eltwise_gelu_erf, md, 0.0f, 0.0f);
    const eltwise_forward::primitive_desc pd(d, eng);
    auto x = random_vector(n, 4);
    std::vector<float> out(n);
    memory mx(md, eng, x.data()), mo(md, eng, out.data());
    eltwise_forward prim(pd);
    for (auto _ : state) {
        prim.execute(s, {{DNNL_ARG_SRC, mx}, {DNNL_ARG_DST, mo}});
        s.wait();
        benchmark::DoNotOptimize(out.data());
    }
    state.SetBytesProcessed(state.iterations() * n * 8);
}

BENCHMARK(layernorm_hoprag)->Args({8192, 384})->Args({2048, 576})->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(layernorm_onednn)->Args({8192, 384})->Args({2048, 576})->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(gelu_hoprag)->Arg(8192 * 1536)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(gelu_onednn)->Arg(8192 * 1536)->Unit(benchmark::kMicrosecond)->UseRealTime();

/// Console output plus a record of each run's real time, for the ratio lines.
class ratio_reporter : public benchmark::ConsoleReporter {
public:
    void ReportRuns(const std::vector<Run>& runs) override {
        for (const auto& r : runs)
            if (r.run_type == Run::RT_Iteration) times_[r.benchmark_name()] = r.GetAdjustedRealTime();
        ConsoleReporter::ReportRuns(runs);
    }
    /// "op_hoprag/args" paired with "op_onednn/args".
    void print_ratios() const {
        for (const auto& [name, t] : times_) {
            const auto at = name.find("_hoprag");
            if (at == std::string::npos) continue;
            const auto peer = times_.find(name.substr(0, at) + "_onednn" + name.substr(at + 7));
            if (peer == times_.end()) continue;
            std::printf("ratio hoprag/onednn %s: %.3f\n", name.c_str(), t / peer->second);
        }
    }

private:
    std::map<std::string, double> times_;
};

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    ratio_reporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    reporter.print_ratios();
    benchmark::Shutdown();
    return 0;
}
