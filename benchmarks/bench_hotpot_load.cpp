// HotpotQA loader throughput: builds a synthetic JSON-array file of N records (default 100,000)
// from the shared samples in a temp dir (the layout of hotpot_train_v1.1.json), then streams it
// with for_each_record and reports records/s, MB/s and the process's peak RSS next to the file size.
// The peer is a plain read of the same file in the same run (the I/O bound).
//   hoprag-bench-hotpot-load [--records N] [--samples DIR] [benchmark flags]
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "hoprag/data/hotpotqa.hpp"

#ifndef HOPRAG_SAMPLES_FALLBACK
#define HOPRAG_SAMPLES_FALLBACK "../shared/data/hotpotqa"
#endif

namespace {

std::filesystem::path g_file;

std::size_t peak_rss_kib() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<std::size_t>(u.ru_maxrss);
}

void bm_read_only(benchmark::State& state) {  // peer: the I/O alone
    std::vector<char> buf(1 << 20);
    for (auto _ : state) {
        std::ifstream in(g_file, std::ios::binary);
        std::size_t total = 0;
        while (in.read(buf.data(), std::streamsize(buf.size())) || in.gcount() > 0) total += std::size_t(in.gcount());
        benchmark::DoNotOptimize(total);
        state.SetBytesProcessed(state.bytes_processed() + std::int64_t(total));
    }
}

void bm_load(benchmark::State& state) {
    std::size_t records = 0;
    for (auto _ : state) {
        std::size_t sentences = 0;
        const auto s = hoprag::data::for_each_record(g_file, [&](hoprag::data::hotpot_record&& r) {
            for (const auto& p : r.context) sentences += p.sentences.size();
        });
        benchmark::DoNotOptimize(sentences);
        records += s.accepted;
    }
    state.counters["records_per_s"] = benchmark::Counter(double(records), benchmark::Counter::kIsRate);
    state.SetBytesProcessed(std::int64_t(std::filesystem::file_size(g_file)) * state.iterations());
    state.counters["peak_rss_MiB"] = double(peak_rss_kib()) / 1024.0;
    state.counters["file_MiB"] = double(std::filesystem::file_size(g_file)) / (1024.0 * 1024.0);
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t n = 100000;
    std::string samples = HOPRAG_SAMPLES_FALLBACK;
    std::vector<char*> rest{argv[0]};
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--help") {
            std::cout << "usage: hoprag-bench-hotpot-load [--records N] [--samples DIR] [benchmark flags]\n";
            return 0;
        }
        if (a == "--records" && i + 1 < argc) n = std::strtoull(argv[++i], nullptr, 10);
        else if (a == "--samples" && i + 1 < argc) samples = argv[++i];
        else rest.push_back(argv[i]);
    }
    try {
        std::vector<std::string> lines;
        for (const char* f : {"hotpot_train_sample.jsonl", "hotpot_dev_sample.jsonl"}) {
            std::ifstream in(std::filesystem::path(samples) / f);
            if (!in) throw hoprag::io_error("cannot open " + (std::filesystem::path(samples) / f).string());
            for (std::string l; std::getline(in, l);)
                if (!l.empty()) lines.push_back(l);
        }
        g_file = std::filesystem::temp_directory_path() / ("hoprag_bench_hotpot_" + std::to_string(::getpid()) + ".json");
        {
            std::ofstream out(g_file, std::ios::binary);
            out << "[";
            for (std::size_t i = 0; i < n; ++i) out << (i ? ",\n" : "\n") << lines[i % lines.size()];
            out << "\n]\n";
        }
        std::cerr << "hoprag-bench-hotpot-load: " << n << " records, " << std::filesystem::file_size(g_file) / (1 << 20)
                  << " MiB in " << g_file << "\n";
        int rc = int(rest.size());
        benchmark::Initialize(&rc, rest.data());
        benchmark::RegisterBenchmark("read_only_peer", bm_read_only)->Unit(benchmark::kMillisecond);
        benchmark::RegisterBenchmark("hotpot_load", bm_load)->Unit(benchmark::kMillisecond);
        benchmark::RunSpecifiedBenchmarks();
        std::filesystem::remove(g_file);
    } catch (const std::exception& e) {
        if (!g_file.empty()) std::filesystem::remove(g_file);
        std::cerr << "hoprag-bench-hotpot-load: " << e.what() << "\n";
        return 1;
    }
}
