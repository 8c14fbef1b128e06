// GEMM benchmark: hoprag::cpu::gemm (oneDNN) in f32 and bf16 against OpenBLAS measured in the same
// process, at square sizes and at the MiniLM-L6 and SmolLM2-135M layer shapes (weights stored
// [out, in], so B is transposed as in a Linear layer). OpenBLAS is not linked: two private copies
// of Debian's libopenblas are loaded with dlopen, one after clearing OPENBLAS_CORETYPE (the kernel
// it detects by itself) and one after setting OPENBLAS_CORETYPE=SkylakeX (its best kernel on
// AVX-512 CPUs), because the library reads the variable once when it loads. Each hoprag row
// reports GFLOPS (Google Benchmark's mean) and `ratio_vs_<peer>` = peer time / hoprag time (> 1:
// hoprag faster), both best-of-rounds with hoprag and the peers called in turn, so a noisy machine
// slows all of them alike. bf16 rows also give `ratio_vs_hoprag_f32` (> 1: bf16 faster).
// Flags: the usual Google Benchmark ones; HOPRAG_OPENBLAS=path overrides the library path.
#include <benchmark/benchmark.h>
#include <dlfcn.h>
#include <omp.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "hoprag/cpu/backend.hpp"

namespace {

using namespace hoprag;

struct shape {
    const char* name;
    std::int64_t m, n, k;
    bool trans_b;
};

const shape shapes[] = {
    {"square512", 512, 512, 512, false},
    {"square1024", 1024, 1024, 1024, false},
    {"square2048", 2048, 2048, 2048, false},
    {"square4096", 4096, 4096, 4096, false},
    {"minilm_ffn_up_b32", 32 * 128, 1536, 384, true},     // [4096 x 384] x [1536 x 384]^T
    {"minilm_ffn_down_b32", 32 * 128, 384, 1536, true},
    {"smollm_mlp_up_t512", 512, 1536, 576, true},
    {"smollm_mlp_down_t512", 512, 576, 1536, true},
    {"smollm_lm_head_t512", 512, 49152, 576, true},        // vocabulary projection
};

// ---- OpenBLAS peers: private copies loaded with dlopen ---------------------------------------

using sgemm_fn = void (*)(int, int, int, int, int, int, float, const float*, int, const float*, int, float, float*, int);
constexpr int cblas_row_major = 101, cblas_no_trans = 111, cblas_trans = 112;

struct openblas {
    std::string label, corename;
    void* handle = nullptr;
    sgemm_fn sgemm = nullptr;
};

std::string openblas_path() {
    if (const char* p = std::getenv("HOPRAG_OPENBLAS")) return p;
    return "/usr/lib/x86_64-linux-gnu/libopenblas.so.0";
}

/// Load a private copy of OpenBLAS with OPENBLAS_CORETYPE = coretype ("" = unset) while it loads.
openblas load_openblas(const std::string& label, const std::string& coretype, int threads) {
    openblas ob;
    ob.label = label;
    namespace fs = std::filesystem;
    // glibc shares one instance per file, so each configuration gets its own copy of the file
    const fs::path src = fs::canonical(openblas_path());
    const fs::path copy = fs::temp_directory_path() / ("hoprag-bench-openblas-" + std::to_string(getpid()) + "-" + label + ".so");
    std::error_code ec;
    fs::copy_file(src, copy, fs::copy_options::overwrite_existing, ec);
    if (ec) {
        std::fprintf(stderr, "bench_gemm: cannot copy %s: %s\n", src.c_str(), ec.message().c_str());
        return ob;
    }
    const char* old = std::getenv("OPENBLAS_CORETYPE");
    const std::string saved = old ? old : "";
    if (coretype.empty()) unsetenv("OPENBLAS_CORETYPE");
    else setenv("OPENBLAS_CORETYPE", coretype.c_str(), 1);
    ob.handle = dlopen(copy.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
    if (old) setenv("OPENBLAS_CORETYPE", saved.c_str(), 1);
    else unsetenv("OPENBLAS_CORETYPE");
    fs::remove(copy, ec);  // the mapping stays valid
    if (!ob.handle) {
        std::fprintf(stderr, "bench_gemm: dlopen OpenBLAS failed: %s\n", dlerror());
        return ob;
    }
    ob.sgemm = reinterpret_cast<sgemm_fn>(dlsym(ob.handle, "cblas_sgemm"));
    auto corename = reinterpret_cast<char* (*)()>(dlsym(ob.handle, "openblas_get_corename"));
    auto set_threads = reinterpret_cast<void (*)(int)>(dlsym(ob.handle, "openblas_set_num_threads"));
    if (set_threads) set_threads(threads);
    ob.corename = corename ? corename() : "?";
    return ob;
}

struct peers {
    openblas detected, best;
    int threads = omp_get_max_threads();
    peers() {
        detected = load_openblas("detected", "", threads);
        best = load_openblas("skylakex", "SkylakeX", threads);
    }
};

peers& the_peers() {
    static peers p;  // benchmark program state, not library state
    return p;
}

// ---- data and timing -------------------------------------------------------------------------

struct operands {
    std::vector<float> a, b, c;
    std::vector<bf16> a16, b16;
    explicit operands(const shape& s) : a(std::size_t(s.m * s.k)), b(std::size_t(s.k * s.n)), c(std::size_t(s.m * s.n)) {
        const philox_stream rng{42, 0};
        for (std::size_t i = 0; i < a.size(); ++i) a[i] = rng.uniform(i) - 0.5f;
        for (std::size_t i = 0; i < b.size(); ++i) b[i] = rng.uniform(i + a.size()) - 0.5f;
        a16.resize(a.size());
        b16.resize(b.size());
        for (std::size_t i = 0; i < a.size(); ++i) a16[i] = bf16::from_float(a[i]);
        for (std::size_t i = 0; i < b.size(); ++i) b16[i] = bf16::from_float(b[i]);
    }
};

double flops(const shape& s) { return 2.0 * double(s.m) * double(s.n) * double(s.k); }

/// Best (minimum) seconds per call of each function, measured interleaved: round r calls every
/// function once, so load from other processes hits all of them alike. A pause before each call lets
/// the previous library's worker threads stop spinning. 3 to 8 rounds (until hoprag has run ~0.5 s).
std::vector<double> interleaved_best(const std::vector<std::function<void()>>& fs) {
    using clock = std::chrono::steady_clock;
    std::vector<double> best(fs.size(), 1e300), total(fs.size(), 0.0);
    for (int round = 0; round < 3 || (round < 8 && total[0] < 0.5); ++round)
        for (std::size_t i = 0; i < fs.size(); ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            const auto t0 = clock::now();
            fs[i]();
            const double t = std::chrono::duration<double>(clock::now() - t0).count();
            best[i] = std::min(best[i], t);
            total[i] += t;
        }
    return best;
}

/// A call of peer `peer` ("openblas_detected", "openblas_skylakex", "dnnl_sgemm") on shape s, f32.
std::function<void()> peer_call(const std::string& peer, const shape& s, operands& ops) {
    const int tb = s.trans_b ? cblas_trans : cblas_no_trans;
    const int ldb = int(s.trans_b ? s.k : s.n);
    if (peer == "dnnl_sgemm")
        return [&ops, s, ldb] {
            dnnl_sgemm('N', s.trans_b ? 'T' : 'N', s.m, s.n, s.k, 1.0f, ops.a.data(), s.k, ops.b.data(), ldb, 0.0f, ops.c.data(), s.n);
        };
    const openblas& ob = peer == "openblas_detected" ? the_peers().detected : the_peers().best;
    if (!ob.sgemm) return {};
    return [&ops, &ob, s, tb, ldb] {
        ob.sgemm(cblas_row_major, cblas_no_trans, tb, int(s.m), int(s.n), int(s.k), 1.0f, ops.a.data(), int(s.k), ops.b.data(), ldb, 0.0f,
                 ops.c.data(), int(s.n));
    };
}

gemm_desc desc_of(const shape& s, dtype ab) {
    gemm_desc d;
    d.m = s.m, d.n = s.n, d.k = s.k, d.trans_b = s.trans_b, d.ab_type = ab;
    return d;
}

/// Run hoprag's GEMM in the benchmark loop and report GFLOPS and ratios against the peers.
void bm_gemm(benchmark::State& state, const shape& s, dtype ab) {
    cpu::context ctx;
    operands ops(s);
    const gemm_desc d = desc_of(s, ab);
    const void* a = ab == dtype::f32 ? static_cast<const void*>(ops.a.data()) : ops.a16.data();
    const void* b = ab == dtype::f32 ? static_cast<const void*>(ops.b.data()) : ops.b16.data();
    cpu::gemm(ctx, d, a, b, ops.c.data());  // create the primitive and warm up
    for (auto _ : state) {
        cpu::gemm(ctx, d, a, b, ops.c.data());
        benchmark::ClobberMemory();
    }
    state.counters["GFLOPS"] = benchmark::Counter(flops(s), benchmark::Counter::kIsIterationInvariantRate);
    state.counters["threads"] = the_peers().threads;
    // ratios: best-of-rounds, hoprag and its peers interleaved on the same inputs; measured on the
    // first call of this benchmark (Google Benchmark calls it again to size the loop) and remembered
    static std::map<std::string, std::pair<std::vector<std::string>, std::vector<double>>> measured;  // program state
    auto& [names, best] = measured[std::string(s.name) + "/" + std::string(dtype_name(ab))];
    if (best.empty()) {
        names = {"hoprag"};
        std::vector<std::function<void()>> calls{[&] { cpu::gemm(ctx, d, a, b, ops.c.data()); }};
        const gemm_desc f = desc_of(s, dtype::f32);
        if (ab != dtype::f32) {
            names.push_back("hoprag_f32");
            calls.push_back([&] { cpu::gemm(ctx, f, ops.a.data(), ops.b.data(), ops.c.data()); });
        }
        for (const char* peer : {"openblas_detected", "openblas_skylakex", "dnnl_sgemm"}) {
            if (ab != dtype::f32 && std::string(peer) != "openblas_skylakex") continue;
            if (auto call = peer_call(peer, s, ops)) {
                names.push_back(peer);
                calls.push_back(std::move(call));
            }
        }
        best = interleaved_best(calls);
    }
    state.counters["best_GFLOPS"] = flops(s) / best[0] * 1e-9;
    for (std::size_t i = 1; i < names.size(); ++i) state.counters["ratio_vs_" + names[i]] = best[i] / best[0];
    for (std::size_t i = 1; i < names.size(); ++i)
        if (names[i] == "openblas_skylakex") state.counters["openblas_skylakex_best_GFLOPS"] = flops(s) / best[i] * 1e-9;
}

}  // namespace

int main(int argc, char** argv) {
    peers& p = the_peers();
    const char* env_core = std::getenv("OPENBLAS_CORETYPE");
    const char* env_l2 = std::getenv("OPENBLAS_L2_SIZE");
    const std::string info = "detected=" + p.detected.corename + " (OPENBLAS_CORETYPE unset while loading), best=" +
                             p.best.corename + " (OPENBLAS_CORETYPE=SkylakeX); threads=" + std::to_string(p.threads) +
                             "; env OPENBLAS_CORETYPE=" + (env_core ? env_core : "(unset)") +
                             " OPENBLAS_L2_SIZE=" + (env_l2 ? env_l2 : "(unset)");
    benchmark::AddCustomContext("openblas_peers", info);
    benchmark::AddCustomContext("hoprag_gemm", "oneDNN " + std::to_string(dnnl_version()->major) + "." +
                                                   std::to_string(dnnl_version()->minor) + "." + std::to_string(dnnl_version()->patch) +
                                                   " matmul, cpu_isa_hints default");
    std::fprintf(stderr, "OpenBLAS peers: %s\n", info.c_str());
    for (const shape& s : shapes) {
        benchmark::RegisterBenchmark((std::string("gemm_f32/") + s.name).c_str(), bm_gemm, s, dtype::f32)
            ->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(0.2);
    }
    for (const char* name : {"square2048", "square4096", "minilm_ffn_up_b32", "smollm_lm_head_t512"})
        for (const shape& s : shapes)
            if (std::string(s.name) == name)
                benchmark::RegisterBenchmark((std::string("gemm_bf16/") + s.name).c_str(), bm_gemm, s, dtype::bf16)
                    ->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(0.2);
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
