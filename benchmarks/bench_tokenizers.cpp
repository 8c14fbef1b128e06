// hoprag-bench-tokenizers: single-thread encode throughput on HotpotQA paragraphs for the MiniLM
// WordPiece, SmolLM2 byte-level BPE and tiny Llama-style BPE tokenizers, against the PyPI
// `tokenizers` package measured in the same run (benchmarks/bench_tokenizers_peer.py, run with
// $HOPRAG_PYTHON or .venv/bin/python). Counters: bytes_per_second, ratio_vs_hf_tokenizers
// (ours / peer, > 1 means hoprag is faster), ids (must equal peer_ids), load_ms. Run it from the
// repository root (or set HOPRAG_SOURCE_DIR).
#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "hoprag/tokenizers/tokenizer_json.hpp"

namespace {

// The repository root: $HOPRAG_SOURCE_DIR, else the current directory (run from the repository root).
std::string source_root() {
    const char* env = std::getenv("HOPRAG_SOURCE_DIR");
    return env ? env : std::filesystem::current_path().string();
}
const std::string root = source_root();

std::vector<std::string> paragraphs() {
    std::vector<std::string> out;
    std::ifstream in(root + "/../shared/data/hotpotqa/hotpot_dev_sample.jsonl");
    for (std::string line; std::getline(in, line) && out.size() < 3000;) {
        const auto r = nlohmann::json::parse(line);
        for (const auto& ctx : r["context"]) {
            std::string p;
            for (const auto& s : ctx[1]) p += s.get<std::string>();
            out.push_back(std::move(p));
        }
    }
    return out;
}

const std::vector<std::string>& texts() {
    static const std::vector<std::string> t = paragraphs();
    return t;
}

// Runs the peer once per tokenizer: {bytes_per_second, ids}, or nullopt when Python is missing.
std::optional<nlohmann::json> peer(const std::string& tokenizer_json) {
    const auto file = std::filesystem::temp_directory_path() / "hoprag_bench_tokenizers.jsonl";
    {
        std::ofstream out(file);
        for (const auto& t : texts()) out << nlohmann::json(t).dump() << "\n";
    }
    const char* env = std::getenv("HOPRAG_PYTHON");
    const std::string python = env ? env : root + "/.venv/bin/python";
    const std::string cmd = python + " " + root + "/benchmarks/bench_tokenizers_peer.py " + tokenizer_json + " " + file.string() + " 2>/dev/null";
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) return std::nullopt;
    std::string text;
    char buf[4096];
    while (const auto n = fread(buf, 1, sizeof buf, p)) text.append(buf, n);
    if (pclose(p) != 0 || text.empty()) return std::nullopt;
    return nlohmann::json::parse(text);
}

void encode(benchmark::State& state, const std::string& tokenizer_json) {
    if (!std::filesystem::exists(tokenizer_json)) {
        state.SkipWithError(("missing " + tokenizer_json).c_str());
        return;
    }
    const auto t0 = std::chrono::steady_clock::now();
    const auto tok = hoprag::tokenizers::load_tokenizer_json(tokenizer_json);
    const double load_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    std::size_t bytes = 0;
    for (const auto& t : texts()) bytes += t.size();
    std::size_t ids = 0;
    const auto start = std::chrono::steady_clock::now();
    for (auto _ : state) {
        ids = 0;
        std::vector<hoprag::tokenizers::token_id> out;
        for (const auto& t : texts()) {
            out.clear();
            tok.encode_raw(t, out);
            ids += out.size();
        }
        benchmark::DoNotOptimize(ids);
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double ours = static_cast<double>(bytes) * static_cast<double>(state.iterations()) / seconds;
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes) * state.iterations());
    state.counters["ids"] = static_cast<double>(ids);
    state.counters["load_ms"] = load_ms;
    state.counters["file_mb"] = static_cast<double>(std::filesystem::file_size(tokenizer_json)) / 1e6;
    if (const auto p = peer(tokenizer_json)) {
        state.counters["peer_bytes_per_second"] = (*p)["bytes_per_second"].get<double>();
        state.counters["peer_ids"] = (*p)["ids"].get<double>();
        state.counters["ratio_vs_hf_tokenizers"] = ours / (*p)["bytes_per_second"].get<double>();
    } else {
        state.SkipWithError("peer (PyPI tokenizers via $HOPRAG_PYTHON or .venv/bin/python) unavailable: no ratio");
    }
}

}  // namespace

BENCHMARK_CAPTURE(encode, minilm_wordpiece, root + "/.cache/models/all-minilm-l6-v2/tokenizer.json")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(encode, smollm2_byte_level_bpe, root + "/.cache/models/smollm2-135m-instruct/tokenizer.json")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(encode, tiny_llama_bpe, root + "/tests/golden/spm_tiny_tokenizer.json")->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
