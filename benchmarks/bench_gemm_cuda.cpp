// hoprag-bench-gemm-cuda: hoprag::cuda::gemm (cuBLASLt, row-major descriptors) against NVIDIA's
// classic cuBLAS cublasGemmEx on the same device buffers, measured alternately in the same run
// with CUDA events. Shapes: square 2048/4096/8192, a MiniLM-L6 layer (4096x1536x384) and the
// SmolLM2-135M MLP (512x1536x576) and vocabulary projection (512x49152x576); f32 (no TF32) and
// bf16 inputs with f32 accumulation and output. Counters: TFLOPS of each and ratio_vs_cublas
// (> 1 means hoprag is faster). Exits with a message when no GPU is present.
#include <benchmark/benchmark.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdio>
#include <string>
#include <vector>

#include "hoprag/backend/buffer.hpp"
#include "hoprag/cuda/backend.hpp"
#include "hoprag/core/rng.hpp"

using namespace hoprag;

namespace {

struct shape {
    const char* name;
    std::int64_t m, n, k;
};

void check(cudaError_t e, const char* what) {
    if (e != cudaSuccess) throw cuda_error(std::string(what) + ": " + cudaGetErrorString(e));
}
void check(cublasStatus_t s, const char* what) {
    if (s != CUBLAS_STATUS_SUCCESS) throw cuda_error(std::string(what) + ": cuBLAS status " + std::to_string(s));
}

template <class T>
std::vector<T> random_matrix(std::size_t n, std::uint64_t seed) {
    const philox_stream s{seed, 0};
    std::vector<T> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = from_float<T>(2.0f * s.uniform(i) - 1.0f);
    return v;
}

template <class T>
void bm_gemm(benchmark::State& state, shape s) {
    cuda::context ctx;
    const auto ab = dtype_of_v<T>;
    buffer<cuda::context, T> a(ctx, random_matrix<T>(static_cast<std::size_t>(s.m * s.k), 1));
    buffer<cuda::context, T> b(ctx, random_matrix<T>(static_cast<std::size_t>(s.k * s.n), 2));
    buffer<cuda::context, float> c(ctx, static_cast<std::size_t>(s.m * s.n));
    gemm_desc d{.m = s.m, .n = s.n, .k = s.k, .ab_type = ab};
    d = packed(d);
    cublasHandle_t handle;
    check(cublasCreate(&handle), "cublasCreate");
    check(cublasSetStream(handle, static_cast<cudaStream_t>(ctx.stream())), "cublasSetStream");
    const cudaDataType_t t = ab == dtype::f32 ? CUDA_R_32F : CUDA_R_16BF;
    const float alpha = 1.0f, beta = 0.0f;
    // row-major C = A B is column-major C^T = B^T A^T
    auto peer = [&] {
        check(cublasGemmEx(handle, CUBLAS_OP_N, CUBLAS_OP_N, static_cast<int>(s.n), static_cast<int>(s.m), static_cast<int>(s.k),
                           &alpha, b.data(), t, static_cast<int>(s.n), a.data(), t, static_cast<int>(s.k), &beta, c.data(),
                           CUDA_R_32F, static_cast<int>(s.n), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
              "cublasGemmEx");
    };
    auto ours = [&] { cuda::gemm(ctx, d, a.data(), b.data(), c.data()); };
    cudaEvent_t e0, e1;
    check(cudaEventCreate(&e0), "event");
    check(cudaEventCreate(&e1), "event");
    auto time_ms = [&](auto&& f) {
        check(cudaEventRecord(e0, static_cast<cudaStream_t>(ctx.stream())), "record");
        f();
        check(cudaEventRecord(e1, static_cast<cudaStream_t>(ctx.stream())), "record");
        check(cudaEventSynchronize(e1), "sync");
        float ms = 0;
        check(cudaEventElapsedTime(&ms, e0, e1), "elapsed");
        return static_cast<double>(ms);
    };
    for (int i = 0; i < 3; ++i) time_ms(ours), time_ms(peer);  // warm-up: handles, heuristics, clocks
    double best_ours = 1e30, best_peer = 1e30;
    for (auto _ : state) {
        const double t_ours = time_ms(ours), t_peer = time_ms(peer);
        best_ours = std::min(best_ours, t_ours);
        best_peer = std::min(best_peer, t_peer);
        state.SetIterationTime(t_ours / 1e3);
    }
    const double flops = 2.0 * static_cast<double>(s.m) * static_cast<double>(s.n) * static_cast<double>(s.k);
    state.counters["TFLOPS"] = flops / best_ours / 1e9;
    state.counters["cublas_TFLOPS"] = flops / best_peer / 1e9;
    state.counters["ratio_vs_cublas"] = best_peer / best_ours;
    cudaEventDestroy(e0);
    cudaEventDestroy(e1);
    cublasDestroy(handle);
}

const shape shapes[] = {{"2048^3", 2048, 2048, 2048},           {"4096^3", 4096, 4096, 4096},
                        {"8192^3", 8192, 8192, 8192},           {"minilm_4096x1536x384", 4096, 1536, 384},
                        {"smollm_mlp_512x1536x576", 512, 1536, 576}, {"smollm_vocab_512x49152x576", 512, 49152, 576}};

}  // namespace

int main(int argc, char** argv) {
    if (cuda::device_count() == 0) {
        std::fprintf(stderr, "hoprag-bench-gemm-cuda: no CUDA device present; nothing to measure\n");
        return 0;
    }
    const auto p = cuda::properties(0);
    std::fprintf(stderr, "device: %s (sm_%d%d, %zu MiB)\n", p.name.c_str(), p.sm_major, p.sm_minor, p.total_memory >> 20);
    for (const auto& s : shapes) {
        benchmark::RegisterBenchmark((std::string("f32/") + s.name).c_str(), bm_gemm<float>, s)->UseManualTime()->Unit(benchmark::kMillisecond);
        benchmark::RegisterBenchmark((std::string("bf16/") + s.name).c_str(), bm_gemm<bf16>, s)->UseManualTime()->Unit(benchmark::kMillisecond);
    }
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
