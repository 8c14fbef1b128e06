// CUDA context, device queries and memory of the CUDA backend (see hoprag/cuda/context.hpp).
#include "hoprag/cuda/check.cuh"
#include "hoprag/cuda/context.hpp"

namespace hoprag::cuda {

int device_count() noexcept {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        cudaGetLastError();  // clear the sticky "no driver" error
        return 0;
    }
    return n;
}

device_properties properties(int device) {
    cudaDeviceProp p{};
    HOPRAG_CUDA_CHECK(cudaGetDeviceProperties(&p, device));
    return device_properties{p.name, p.major, p.minor, p.totalGlobalMem, p.multiProcessorCount};
}

struct context::impl {
    int device = 0;
    cudaStream_t stream = nullptr;
    cublasLtHandle_t blaslt = nullptr;
    void* workspace = nullptr;
    std::size_t workspace_bytes = std::size_t{32} << 20;
};

context::context(int device, std::uint64_t seed, log_sink sink)
    : hoprag::context(seed, std::move(sink)), impl_(std::make_unique<impl>()) {
    impl_->device = device;
    HOPRAG_CUDA_CHECK(cudaSetDevice(device));
    HOPRAG_CUDA_CHECK(cudaStreamCreateWithFlags(&impl_->stream, cudaStreamNonBlocking));
    HOPRAG_CUBLAS_CHECK(cublasLtCreate(&impl_->blaslt));
    HOPRAG_CUDA_CHECK(cudaMalloc(&impl_->workspace, impl_->workspace_bytes));
}

context::~context() {
    if (!impl_) return;
    cudaStreamSynchronize(impl_->stream);
    cudaFree(impl_->workspace);
    cublasLtDestroy(impl_->blaslt);
    cudaStreamDestroy(impl_->stream);
}

int context::device() const { return impl_->device; }
void* context::stream() const { return impl_->stream; }
void* context::blaslt() const { return impl_->blaslt; }
void* context::workspace() const { return impl_->workspace; }
std::size_t context::workspace_bytes() const { return impl_->workspace_bytes; }

void* allocate(context& ctx, std::size_t bytes) {
    void* p = nullptr;
    HOPRAG_CUDA_CHECK(cudaMallocAsync(&p, bytes == 0 ? 1 : bytes, HOPRAG_STREAM(ctx)));
    return p;
}

void deallocate(context& ctx, void* p) noexcept { cudaFreeAsync(p, HOPRAG_STREAM(ctx)); }

void upload(context& ctx, void* dst, const void* src, std::size_t bytes) {
    HOPRAG_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, HOPRAG_STREAM(ctx)));
    HOPRAG_CUDA_CHECK(cudaStreamSynchronize(HOPRAG_STREAM(ctx)));
}

void download(context& ctx, void* dst, const void* src, std::size_t bytes) {
    HOPRAG_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, HOPRAG_STREAM(ctx)));
    HOPRAG_CUDA_CHECK(cudaStreamSynchronize(HOPRAG_STREAM(ctx)));
}

void synchronize(context& ctx) { HOPRAG_CUDA_CHECK(cudaStreamSynchronize(HOPRAG_STREAM(ctx))); }

namespace {
cudaMemPool_t default_pool(context& ctx) {
    cudaMemPool_t pool = nullptr;
    HOPRAG_CUDA_CHECK(cudaDeviceGetDefaultMemPool(&pool, ctx.device()));
    return pool;
}
}  // namespace

memory_stats memory(context& ctx) {
    synchronize(ctx);  // frees queued on the stream count once they happened
    const auto pool = default_pool(ctx);
    std::uint64_t used = 0, high = 0;
    HOPRAG_CUDA_CHECK(cudaMemPoolGetAttribute(pool, cudaMemPoolAttrUsedMemCurrent, &used));
    HOPRAG_CUDA_CHECK(cudaMemPoolGetAttribute(pool, cudaMemPoolAttrUsedMemHigh, &high));
    return {static_cast<std::size_t>(used), static_cast<std::size_t>(high)};
}

void reset_memory_peak(context& ctx) {
    synchronize(ctx);
    std::uint64_t zero = 0;  // the only value the attribute takes: restart the mark from current use
    HOPRAG_CUDA_CHECK(cudaMemPoolSetAttribute(default_pool(ctx), cudaMemPoolAttrUsedMemHigh, &zero));
}

}  // namespace hoprag::cuda
