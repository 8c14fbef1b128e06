// Benchmarks of the CPU softmax, attention and RoPE ops. Softmax is measured against oneDNN's
// softmax_forward primitive (same rows, same threads, same run): the `vs_onednn` counter is
// hoprag time / oneDNN time (below 1 = hoprag faster). Attention and RoPE have no peer here; their
// rows report throughput only, for tracking regressions between commits.
#include <benchmark/benchmark.h>

#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

#include "hoprag/cpu/backend.hpp"

using namespace hoprag;

namespace {

std::vector<float> random_vector(std::size_t n, std::uint64_t seed) {
    const philox_stream s{seed, 0};
    std::vector<float> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = 4.0f * s.uniform(i) - 2.0f;
    return v;
}

template <class F>
double seconds_per_call(F&& f, int reps) {
    f();  // warm-up
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < reps; ++i) f();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / reps;
}

void bm_softmax_vs_onednn(benchmark::State& state) {
    const std::int64_t rows = state.range(0), cols = state.range(1);
    cpu::context ctx;
    const auto x = random_vector(rows * cols, 1);
    std::vector<float> out(x.size()), peer_out(x.size());

    dnnl::engine eng(dnnl::engine::kind::cpu, 0);
    dnnl::stream strm(eng);
    const dnnl::memory::desc md({rows, cols}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::ab);
    const dnnl::softmax_forward::primitive_desc pd(
        dnnl::softmax_forward::desc(dnnl::prop_kind::forward_inference, md, 1), eng);
    const dnnl::softmax_forward prim(pd);
    dnnl::memory src(md, eng, const_cast<float*>(x.data())), dst(md, eng, peer_out.data());
    auto peer = [&] {
        prim.execute(strm, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}});
        strm.wait();
    };
    auto ours = [&] { cpu::softmax_forward(ctx, out.data(), x.data(), rows, cols); };

    const int reps = static_cast<int>(std::clamp<std::int64_t>((1 << 22) / (rows * cols), 3, 100));
    double ours_s = 0, peer_s = 0;
    for (auto _ : state) {
        const double a = seconds_per_call(ours, reps), b = seconds_per_call(peer, reps);
        ours_s += a;
        peer_s += b;
        state.SetIterationTime(a);
    }
    state.counters["vs_onednn"] = ours_s / peer_s;
    state.counters["onednn_us"] = 1e6 * peer_s / static_cast<double>(state.iterations());
    state.SetBytesProcessed(state.iterations() * rows * cols * 8);
}

void bm_attention(benchmark::State& state) {
    attention_desc d;
    d.batch = 1;
    d.q_len = d.kv_len = state.range(0);
    d.n_heads = 9;
    d.n_kv_heads = 3;
    d.head_dim = 64;
    d.causal = true;
    cpu::context ctx;
    const std::size_t nq = d.q_len * d.n_heads * d.head_dim, nk = d.kv_len * d.n_kv_heads * d.head_dim;
    const auto q = random_vector(nq, 2), k = random_vector(nk, 3), v = random_vector(nk, 4), dout = random_vector(nq, 5);
    std::vector<float> out(nq), probs(d.n_heads * d.q_len * d.kv_len), dq(nq), dk(nk), dv(nk);
    const bool backward = state.range(1) != 0;
    for (auto _ : state) {
        cpu::attention_forward(ctx, d, out.data(), probs.data(), q.data(), k.data(), v.data());
        if (backward)
            cpu::attention_backward(ctx, d, dq.data(), dk.data(), dv.data(), dout.data(), q.data(), k.data(), v.data(),
                                    probs.data());
        benchmark::DoNotOptimize(dv.data());
    }
    // Forward: two matmuls of 2 * Q * K * D flops over the causal half of the scores; backward
    // counted as twice the forward (four matmuls).
    const double flops = (backward ? 3.0 : 1.0) * 2.0 * d.n_heads * d.q_len * d.kv_len * d.head_dim;
    state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9 * state.iterations(), benchmark::Counter::kIsRate);
}

void bm_rope(benchmark::State& state) {
    const std::int64_t seq = state.range(0), heads = 9, head_dim = 64;
    cpu::context ctx;
    auto x = random_vector(seq * heads * head_dim, 6);
    for (auto _ : state) {
        cpu::rope_forward(ctx, x.data(), nullptr, 1, seq, heads, head_dim, 10000.0f, rope_style::half);
        benchmark::DoNotOptimize(x.data());
    }
    state.SetBytesProcessed(state.iterations() * seq * heads * head_dim * 8);
}

}  // namespace

BENCHMARK(bm_softmax_vs_onednn)->Args({4096, 512})->Args({64, 32000})->Args({1024, 7})->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(bm_attention)->Args({256, 0})->Args({256, 1})->Args({512, 0})->Unit(benchmark::kMillisecond);
BENCHMARK(bm_rope)->Arg(512)->Arg(4096)->Unit(benchmark::kMicrosecond);
BENCHMARK_MAIN();
