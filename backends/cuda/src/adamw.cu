// CUDA optimiser ops (see hoprag/cuda/adamw.hpp): launches of the kernels in hoprag/cuda/adamw.cuh.
#include <algorithm>

#include "hoprag/cuda/adamw.cuh"
#include "hoprag/cuda/adamw.hpp"
#include "hoprag/cuda/check.cuh"

namespace hoprag::cuda {

namespace {
constexpr unsigned elementwise_threads = 256;
constexpr unsigned elementwise_max_blocks = 65535;

unsigned elementwise_blocks(std::int64_t n) {
    return static_cast<unsigned>(std::min<std::int64_t>(detail::blocks_for(n, elementwise_threads), elementwise_max_blocks));
}
}  // namespace

void adamw_update(context& ctx, const train::adamw_tensor& t, train::adamw_step s) {
    train::validate(t);
    if (t.n == 0) return;
    if (!t.decay) s.weight_decay = 0.0f;
    const unsigned blocks = elementwise_blocks(t.n);
    auto stream = HOPRAG_STREAM(ctx);
    if (!t.low_copy) {
        kernels::adamw<void><<<blocks, elementwise_threads, 0, stream>>>(t.param, t.m, t.v, t.grad, nullptr, t.n, s);
    } else if (t.low_type == dtype::bf16) {
        kernels::adamw<bf16><<<blocks, elementwise_threads, 0, stream>>>(t.param, t.m, t.v, t.grad, static_cast<bf16*>(t.low_copy), t.n, s);
    } else {
        kernels::adamw<f16><<<blocks, elementwise_threads, 0, stream>>>(t.param, t.m, t.v, t.grad, static_cast<f16*>(t.low_copy), t.n, s);
    }
    HOPRAG_CUDA_CHECK_LAUNCH();
}

void adamw_update(context& ctx, const train::adamw_tensor* tensors, std::size_t count, const train::adamw_step& s) {
    for (std::size_t i = 0; i < count; ++i) adamw_update(ctx, tensors[i], s);
}

double sum_squares(context& ctx, const float* x, std::int64_t n) {
    if (n <= 0) return 0.0;
    auto stream = HOPRAG_STREAM(ctx);
    const unsigned blocks = static_cast<unsigned>(
        std::min<std::int64_t>(detail::blocks_for(n, kernels::reduce_threads), kernels::reduce_max_blocks));
    double* scratch = nullptr;  // [blocks] partials, then [1] total
    HOPRAG_CUDA_CHECK(cudaMallocAsync(reinterpret_cast<void**>(&scratch), (blocks + 1) * sizeof(double), stream));
    kernels::sum_squares_partial<<<blocks, kernels::reduce_threads, 0, stream>>>(x, n, scratch);
    cudaError_t e = cudaGetLastError();
    if (e == cudaSuccess) {
        kernels::sum_partials<<<1, kernels::reduce_threads, 0, stream>>>(scratch, blocks, scratch + blocks);
        e = cudaGetLastError();
    }
    double total = 0.0;
    if (e == cudaSuccess) e = cudaMemcpyAsync(&total, scratch + blocks, sizeof(double), cudaMemcpyDeviceToHost, stream);
    cudaFreeAsync(scratch, stream);
    if (e == cudaSuccess) e = cudaStreamSynchronize(stream);
    if (e != cudaSuccess) detail::throw_cuda(e, "sum_squares", __FILE__, __LINE__);
    return total;
}

}  // namespace hoprag::cuda
