// hoprag-bench-encoder: the retrieval stage on the CPU against named peers measured in the same
// run. (1) Corpus encoding with all-MiniLM-L6-v2 on real HotpotQA paragraphs ("title. text", the
// first $HOPRAG_BENCH_PASSAGES = 256 pooled dev paragraphs): hoprag vs PyTorch and vs ONNX Runtime
// (benchmarks/bench_encoder_peer.py, run with $HOPRAG_TORCH_PYTHON or .venv-torch/bin/python, which
// exports the same weights to ONNX once into .cache/onnx). Same texts, threads (2, or
// $HOPRAG_BENCH_THREADS), batch (32 texts, longest first, padded to the batch's longest) and
// max length (256); everyone tokenizes, pools and normalises inside the timed region. Counters:
// passages_per_s, ratio_vs_torch, ratio_vs_onnxruntime (> 1 = hoprag faster), min_cosine_vs_torch
// (our embeddings vs the torch peer's). (2) Single-query latency (median of 30), same peers.
// (3) Flat inner-product search, 64 queries x top-200 over 12,111 random unit vectors of size 384:
// hoprag flat_index (f32, bf16) vs FAISS IndexFlatIP (C++ libfaiss, same vectors): queries_per_s,
// ratio_vs_faiss. Run from the repository root (or set HOPRAG_SOURCE_DIR).
#include <benchmark/benchmark.h>
#include <faiss/IndexFlat.h>
#include <nlohmann/json.hpp>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
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

std::string env_or(const char* name, const std::string& fallback) {
    const char* v = std::getenv(name);
    return v && *v ? v : fallback;
}
const std::string root = env_or("HOPRAG_SOURCE_DIR", ".");
const std::string model_dir = root + "/.cache/models/all-minilm-l6-v2";
const int threads = std::stoi(env_or("HOPRAG_BENCH_THREADS", "2"));
constexpr std::int64_t batch = 32, max_length = 256;
const std::string query = "Which magazine was published first, Woman's Day or The Lady?";

const std::vector<std::string>& texts() {
    static const std::vector<std::string> t = [] {
        const auto n = static_cast<std::size_t>(std::stoul(env_or("HOPRAG_BENCH_PASSAGES", "256")));
        data::load_options o;
        o.max_records = static_cast<std::int64_t>(n / 5 + 10);
        const auto recs = data::load_all(root + "/../shared/data/hotpotqa/hotpot_dev_sample.jsonl", o);
        std::vector<std::string> out;
        for (const auto& p : data::corpus_passages(recs, data::passage_unit::paragraph))
            if (out.size() < n) out.push_back(data::passage_text(p));
        return out;
    }();
    return t;
}

bert::encoder_options options() {
    return {.max_length = max_length, .max_tokens = batch * max_length, .max_batch = batch};
}

struct peer_result {
    nlohmann::json json;
    std::vector<float> vectors;  // torch embeddings [texts, 384]
};

// Runs the Python peers once; nullopt (with the reason on stderr) when they cannot run.
const std::optional<peer_result>& peers() {
    static const std::optional<peer_result> r = []() -> std::optional<peer_result> {
        const auto dir = std::filesystem::temp_directory_path() / ("hoprag_bench_encoder_" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir);
        {
            std::ofstream out(dir / "texts.jsonl");
            for (const auto& t : texts()) out << nlohmann::json(t).dump() << "\n";
            std::ofstream(dir / "query.txt") << query;
        }
        const std::string python = env_or("HOPRAG_TORCH_PYTHON", root + "/.venv-torch/bin/python");
        const std::string cmd = "OPENBLAS_CORETYPE=SkylakeX " + python + " " + root + "/benchmarks/bench_encoder_peer.py " +
                                model_dir + " " + (dir / "texts.jsonl").string() + " " + (dir / "query.txt").string() + " " + root +
                                "/.cache/onnx " + std::to_string(threads) + " " + std::to_string(batch) + " " +
                                std::to_string(max_length) + " " + (dir / "vectors.f32").string() + " 2>" +
                                (dir / "stderr.txt").string();
        std::string text;
        if (FILE* p = popen(cmd.c_str(), "r")) {
            char buf[4096];
            while (const auto n = fread(buf, 1, sizeof buf, p)) text.append(buf, n);
            if (pclose(p) != 0) text.clear();
        }
        std::optional<peer_result> res;
        if (!text.empty()) {
            res.emplace();
            res->json = nlohmann::json::parse(text);
            res->vectors.resize(texts().size() * 384);
            std::ifstream v(dir / "vectors.f32", std::ios::binary);
            v.read(reinterpret_cast<char*>(res->vectors.data()), static_cast<std::streamsize>(res->vectors.size() * 4));
            if (!v) res.reset();
        }
        if (!res) std::fprintf(stderr, "bench-encoder: the Python peers failed (%s; see %s)\n", cmd.c_str(),
                               (dir / "stderr.txt").string().c_str());
        else std::filesystem::remove_all(dir);
        return res;
    }();
    return r;
}

template <class F>
double seconds(F&& f) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void bm_encode_corpus(benchmark::State& state) {
    omp_set_num_threads(threads);
    cpu::context ctx;
    bert::encoder<cpu::context, bert::mean_pooling> enc(ctx, model_dir, options());
    const auto& t = texts();
    enc.encode_passages(std::span(t).first(std::min<std::size_t>(t.size(), 2 * batch)));  // warm-up
    double best = 1e300;
    std::vector<float> ours;
    for (auto _ : state) best = std::min(best, seconds([&] { ours = enc.encode_passages(t); }));
    const double pps = double(t.size()) / best;
    state.counters["passages"] = double(t.size());
    state.counters["threads"] = threads;
    state.counters["passages_per_s"] = pps;
    const auto& p = peers();
    if (!p) return state.SkipWithError("peers unavailable (torch/onnxruntime python): no ratios");
    double min_cos = 1;
    for (std::size_t i = 0; i < t.size(); ++i) {
        double dot = 0, na = 0, nb = 0;
        for (std::size_t j = 0; j < 384; ++j) {
            const double a = ours[i * 384 + j], b = p->vectors[i * 384 + j];
            dot += a * b, na += a * a, nb += b * b;
        }
        min_cos = std::min(min_cos, dot / std::sqrt(na * nb));
    }
    const double torch = p->json["torch"]["passages_per_s"], ort = p->json["onnxruntime"]["passages_per_s"];
    state.counters["torch_passages_per_s"] = torch;
    state.counters["onnxruntime_passages_per_s"] = ort;
    state.counters["ratio_vs_torch"] = pps / torch;
    state.counters["ratio_vs_onnxruntime"] = pps / ort;
    state.counters["min_cosine_vs_torch"] = min_cos;
}
BENCHMARK(bm_encode_corpus)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

void bm_single_query(benchmark::State& state) {
    omp_set_num_threads(threads);
    cpu::context ctx;
    bert::encoder<cpu::context, bert::mean_pooling> enc(ctx, model_dir, options());
    const std::vector<std::string> q{query};
    enc.encode_queries(q);
    std::vector<double> lat;
    for (auto _ : state) lat.push_back(seconds([&] { benchmark::DoNotOptimize(enc.encode_queries(q)); }));
    std::nth_element(lat.begin(), lat.begin() + static_cast<std::ptrdiff_t>(lat.size() / 2), lat.end());
    const double ms = 1e3 * lat[lat.size() / 2];
    state.counters["query_ms"] = ms;
    const auto& p = peers();
    if (!p) return state.SkipWithError("peers unavailable (torch/onnxruntime python): no ratios");
    const double torch = p->json["torch"]["query_ms"], ort = p->json["onnxruntime"]["query_ms"];
    state.counters["torch_query_ms"] = torch;
    state.counters["onnxruntime_query_ms"] = ort;
    state.counters["ratio_vs_torch"] = torch / ms;
    state.counters["ratio_vs_onnxruntime"] = ort / ms;
}
BENCHMARK(bm_single_query)->Unit(benchmark::kMillisecond)->Iterations(30)->UseRealTime();

constexpr std::int64_t search_n = 12111, search_dim = 384, search_q = 64, search_k = 200;

// Random unit vectors (Philox), the base then the queries.
std::vector<float> unit_vectors(std::int64_t n, std::uint64_t seed) {
    const philox_stream s{seed, 0};
    std::vector<float> v(static_cast<std::size_t>(n * search_dim));
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = s.uniform(i) - 0.5f;
    for (std::int64_t r = 0; r < n; ++r) {
        float* x = v.data() + r * search_dim;
        double ss = 0;
        for (std::int64_t j = 0; j < search_dim; ++j) ss += double(x[j]) * x[j];
        for (std::int64_t j = 0; j < search_dim; ++j) x[j] = static_cast<float>(x[j] / std::sqrt(ss));
    }
    return v;
}

double faiss_qps() {
    static const double qps = [] {
        const auto base = unit_vectors(search_n, 5), queries = unit_vectors(search_q, 6);
        faiss::IndexFlatIP index(search_dim);
        index.add(search_n, base.data());
        std::vector<float> d(static_cast<std::size_t>(search_q * search_k));
        std::vector<faiss::Index::idx_t> l(d.size());
        index.search(search_q, queries.data(), search_k, d.data(), l.data());
        double best = 1e300;
        for (int i = 0; i < 10; ++i)
            best = std::min(best, seconds([&] { index.search(search_q, queries.data(), search_k, d.data(), l.data()); }));
        return double(search_q) / best;
    }();
    return qps;
}

template <class Storage>
void bm_flat_search(benchmark::State& state) {
    omp_set_num_threads(threads);
    cpu::context ctx;
    const auto base = unit_vectors(search_n, 5), queries = unit_vectors(search_q, 6);
    components::flat_index<cpu::context, Storage> index(ctx, {"bench", search_dim, "mean", true, "0"});
    index.add(base);
    index.search(queries, search_k);
    double best = 1e300;
    for (auto _ : state) best = std::min(best, seconds([&] { benchmark::DoNotOptimize(index.search(queries, search_k)); }));
    const double qps = double(search_q) / best, peer = faiss_qps();
    state.counters["queries_per_s"] = qps;
    state.counters["faiss_queries_per_s"] = peer;
    state.counters["ratio_vs_faiss"] = qps / peer;
}
BENCHMARK(bm_flat_search<components::f32_storage>)->Name("bm_flat_search/f32")->Iterations(10)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(bm_flat_search<components::bf16_storage>)->Name("bm_flat_search/bf16")->Iterations(10)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
