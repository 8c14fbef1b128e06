// Benchmarks of the retrieval stage on the CPU: corpus encoding with all-MiniLM-L6-v2 on real
// HotpotQA paragraphs (passages/s), with the GEMM attention path against the fused attention op
// measured in the same run (`ratio_vs_fused_attention` = fused time / GEMM-path time, above 1 =
// GEMM path faster), single-query latency, and exact flat search (f32 and bf16 storage) over a
// corpus-sized index, in queries/s. No external peer (ONNX Runtime, PyTorch, FAISS) is measured
// here yet: these rows track regressions between commits. Run from the repository root (or set
// HOPRAG_SOURCE_DIR); it reads .cache/models/all-minilm-l6-v2 and ../shared/data/hotpotqa.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "hoprag/components/flat_index.hpp"
#include "hoprag/cpu/backend.hpp"
#include "hoprag/data/hotpotqa.hpp"
#include "hoprag/data/passage_unit.hpp"
#include "hoprag/models/bert/encoder.hpp"

using namespace hoprag;
namespace bert = hoprag::models::bert;

namespace {

// The repository root: $HOPRAG_SOURCE_DIR, else the current directory (run from the repository root).
std::string source_root() {
    const char* env = std::getenv("HOPRAG_SOURCE_DIR");
    return env ? env : ".";
}
const std::string root = source_root();

std::vector<std::string> passages(std::size_t n) {
    data::load_options o;
    o.max_records = 20;
    const auto recs = data::load_all(root + "/../shared/data/hotpotqa/hotpot_dev_sample.jsonl", o);
    std::vector<std::string> out;
    for (const auto& p : data::corpus_passages(recs, data::passage_unit::paragraph))
        if (out.size() < n) out.push_back(data::passage_text(p));
    return out;
}

template <class F>
double seconds(F&& f) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void bm_encode_passages(benchmark::State& state) {
    cpu::context ctx;
    const auto texts = passages(64);
    bert::encoder<cpu::context, bert::mean_pooling> enc(ctx, root + "/.cache/models/all-minilm-l6-v2");
    bert::encoder<cpu::context, bert::mean_pooling> fused(ctx, root + "/.cache/models/all-minilm-l6-v2",
                                                          {.attention = bert::attention_path::fused});
    enc.encode_passages(texts);  // warm-up (primitive creation)
    fused.encode_passages(texts);
    double ours = 0, peer = 0;
    for (auto _ : state) {
        ours += seconds([&] { benchmark::DoNotOptimize(enc.encode_passages(texts)); });
        state.PauseTiming();
        peer += seconds([&] { benchmark::DoNotOptimize(fused.encode_passages(texts)); });
        state.ResumeTiming();
    }
    state.counters["passages_per_s"] = double(texts.size()) * double(state.iterations()) / ours;
    state.counters["ratio_vs_fused_attention"] = peer / ours;
}
BENCHMARK(bm_encode_passages)->Unit(benchmark::kMillisecond)->Iterations(2)->UseRealTime();

void bm_single_query(benchmark::State& state) {
    cpu::context ctx;
    bert::encoder<cpu::context, bert::mean_pooling> enc(ctx, root + "/.cache/models/all-minilm-l6-v2");
    const std::vector<std::string> q{"Which magazine was published first, Woman's Day or The Lady?"};
    enc.encode_queries(q);
    for (auto _ : state) benchmark::DoNotOptimize(enc.encode_queries(q));
}
BENCHMARK(bm_single_query)->Unit(benchmark::kMillisecond)->UseRealTime();

template <class Storage>
void bm_flat_search(benchmark::State& state) {
    cpu::context ctx;
    const std::int64_t n = state.range(0), dim = 384, nq = 64;
    const philox_stream s{5, 0};
    std::vector<float> base(static_cast<std::size_t>(n * dim)), queries(static_cast<std::size_t>(nq * dim));
    for (std::size_t i = 0; i < base.size(); ++i) base[i] = s.uniform(i) - 0.5f;
    for (std::size_t i = 0; i < queries.size(); ++i) queries[i] = s.uniform(base.size() + i) - 0.5f;
    components::flat_index<cpu::context, Storage> index(ctx, {"bench", dim, "mean", true, "0"});
    index.add(base);
    index.search(queries, 200);
    for (auto _ : state) benchmark::DoNotOptimize(index.search(queries, 200));
    state.counters["queries_per_s"] = benchmark::Counter(double(nq), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(bm_flat_search<components::f32_storage>)->Arg(12111)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(bm_flat_search<components::bf16_storage>)->Arg(12111)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
