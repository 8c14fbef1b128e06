// hoprag-bench-reranker: cross-encoder throughput on the CPU backend with all-MiniLM-L6-v2 (fresh
// 1-logit head), pairs from the shared HotpotQA dev sample (question + gold or distractor
// paragraph), against peers measured in the same run by benchmarks/bench_reranker_peer.py
// ($HOPRAG_PYTHON or /work/main/.venv-torch/bin/python): sentence-transformers 2.7
// CrossEncoder.fit on PyTorch CPU (same model, max length, batch, threads) and ONNX Runtime.
//  * train: forward + BCE + backward + AdamW per batch of $HOPRAG_BENCH_BATCH pairs (default 16)
//    at max length $HOPRAG_BENCH_MAX_LENGTH (default 128); counters pairs_per_second,
//    peer_pairs_per_second, ratio_vs_sentence_transformers (ours / peer, > 1 = hoprag faster);
//  * infer: score() over the same pairs; ratio_vs_sentence_transformers_predict, ratio_vs_onnxruntime.
// Threads: the peer runs with $OMP_NUM_THREADS (default 2) threads, as this process.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hoprag/components/reranker.hpp"
#include "hoprag/cpu/backend.hpp"
#include "hoprag/data/hotpotqa.hpp"

namespace {

// The repository root: $HOPRAG_SOURCE_DIR, else the current directory (run from the repository root).
std::string source_root() {
    const char* env = std::getenv("HOPRAG_SOURCE_DIR");
    return env ? env : std::filesystem::current_path().string();
}
const std::string root = source_root();
const std::string model_dir = root + "/.cache/models/all-minilm-l6-v2";

std::int64_t env_int(const char* name, std::int64_t fallback) {
    const char* v = std::getenv(name);
    return v ? std::atoll(v) : fallback;
}
const std::int64_t max_length = env_int("HOPRAG_BENCH_MAX_LENGTH", 128);
const std::int64_t batch = env_int("HOPRAG_BENCH_BATCH", 16);
const std::int64_t n_pairs = env_int("HOPRAG_BENCH_PAIRS", 128);

struct pair_text {
    std::string q, p;
    int y;
};

const std::vector<pair_text>& pairs() {
    static const std::vector<pair_text> v = [] {
        std::vector<pair_text> out;
        for (const auto& r : hoprag::data::load_all(root + "/../shared/data/hotpotqa/hotpot_dev_sample.jsonl")) {
            const auto gold = hoprag::data::gold_titles(r);
            for (const auto& para : r.context) {
                if (static_cast<std::int64_t>(out.size()) >= n_pairs) return out;
                std::string text;
                for (const auto& s : para.sentences) text += s;
                out.push_back({r.question, para.title + ": " + text, gold.count(para.title) ? 1 : 0});
            }
        }
        return out;
    }();
    return v;
}

std::optional<nlohmann::json> peer() {
    static std::optional<nlohmann::json> cached;
    static bool ran = false;
    if (ran) return cached;
    ran = true;
    const auto file = std::filesystem::temp_directory_path() / "hoprag_bench_reranker_pairs.jsonl";
    {
        std::ofstream out(file);
        for (const auto& p : pairs()) out << nlohmann::json{{"q", p.q}, {"p", p.p}, {"y", p.y}}.dump() << "\n";
    }
    const char* env = std::getenv("HOPRAG_PYTHON");
    const std::string python = env ? env : "/work/main/.venv-torch/bin/python";
    const std::string cmd = python + " " + root + "/benchmarks/bench_reranker_peer.py " + model_dir + " " + file.string() + " " +
                            std::to_string(max_length) + " " + std::to_string(batch) + " " + std::to_string(env_int("OMP_NUM_THREADS", 2)) +
                            " 2>/dev/null";
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) return cached;
    std::string text;
    char buf[4096];
    while (const auto n = fread(buf, 1, sizeof buf, p)) text.append(buf, n);
    if (pclose(p) != 0 || text.empty()) return cached;
    cached = nlohmann::json::parse(text.substr(text.rfind('{')));
    return cached;
}

void train(benchmark::State& state) {
    hoprag::cpu::context ctx;
    namespace comp = hoprag::components;
    comp::reranker<comp::bce_loss, hoprag::cpu::backend> rr(ctx, model_dir, {.max_length = max_length, .max_batch = batch});
    auto& m = rr.model();
    auto am = hoprag::models::bert::zero_cross_encoder_parameters(ctx, m.model_config());
    auto av = hoprag::models::bert::zero_cross_encoder_parameters(ctx, m.model_config());
    std::vector<std::string> names;
    const auto ts = comp::adamw_tensors(m.params(), m.grads(), am, av, names);
    std::vector<hoprag::tokenizers::encoding> enc;
    std::vector<float> labels;
    for (const auto& p : pairs()) enc.push_back(m.encode(p.q, p.p)), labels.push_back(static_cast<float>(p.y));
    std::int64_t step = 0, done = 0;
    const auto start = std::chrono::steady_clock::now();
    for (auto _ : state) {
        for (std::size_t s = 0; s + static_cast<std::size_t>(batch) <= enc.size(); s += static_cast<std::size_t>(batch)) {
            hoprag::models::bert::zero(ctx, m.grads());
            const auto logits = m.forward_logits(std::span(enc).subspan(s, static_cast<std::size_t>(batch)));
            std::vector<float> d(logits.size());
            for (std::size_t i = 0; i < logits.size(); ++i)  // pointwise BCE, mean over the batch
                d[i] = (1.0f / (1.0f + std::exp(-logits[i])) - labels[s + i]) / static_cast<float>(batch);
            m.backward(d);
            hoprag::cpu::adamw_update(ctx, std::span<const hoprag::train::adamw_tensor>(ts),
                                      hoprag::train::make_adamw_step({}, ++step, 2e-5f));
            done += batch;
        }
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double ours = static_cast<double>(done) / secs;
    state.counters["pairs_per_second"] = ours;
    state.counters["max_length"] = static_cast<double>(max_length);
    state.counters["batch"] = static_cast<double>(batch);
    if (const auto p = peer()) {
        state.counters["peer_pairs_per_second"] = (*p)["train_pairs_per_second"].get<double>();
        state.counters["ratio_vs_sentence_transformers"] = ours / (*p)["train_pairs_per_second"].get<double>();
    } else {
        state.SkipWithError("peer (sentence-transformers via $HOPRAG_PYTHON or /work/main/.venv-torch/bin/python) unavailable: no ratio");
    }
}

void infer(benchmark::State& state) {
    hoprag::cpu::context ctx;
    namespace comp = hoprag::components;
    hoprag::models::bert::cross_encoder<hoprag::cpu::context> m(ctx, model_dir, {.max_length = max_length, .max_batch = batch, .train = false});
    std::vector<hoprag::tokenizers::encoding> enc;
    for (const auto& p : pairs()) enc.push_back(m.encode(p.q, p.p));
    std::int64_t done = 0;
    const auto start = std::chrono::steady_clock::now();
    for (auto _ : state) {
        benchmark::DoNotOptimize(m.score(enc));
        done += static_cast<std::int64_t>(enc.size());
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double ours = static_cast<double>(done) / secs;
    state.counters["pairs_per_second"] = ours;
    if (const auto p = peer()) {
        state.counters["peer_predict_pairs_per_second"] = (*p)["predict_pairs_per_second"].get<double>();
        state.counters["ratio_vs_sentence_transformers_predict"] = ours / (*p)["predict_pairs_per_second"].get<double>();
        if ((*p)["onnx_pairs_per_second"].is_number()) {
            state.counters["peer_onnx_pairs_per_second"] = (*p)["onnx_pairs_per_second"].get<double>();
            state.counters["ratio_vs_onnxruntime"] = ours / (*p)["onnx_pairs_per_second"].get<double>();
        }
    } else {
        state.SkipWithError("peer unavailable: no ratio");
    }
}

}  // namespace

BENCHMARK(train)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);
BENCHMARK(infer)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(2);

BENCHMARK_MAIN();
