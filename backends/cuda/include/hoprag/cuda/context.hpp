// CUDA backend context and memory: the CUDA-free host interface (DESIGN rule 1). This header
// compiles with any C++20 compiler; everything that touches CUDA lives in backends/cuda/src/*.cu,
// which CMake compiles into each target linking hoprag::cuda. The context owns the stream, the
// cuBLASLt handle and the GEMM workspace; handles are exposed as opaque pointers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "hoprag/core/context.hpp"

namespace hoprag::cuda {

struct device_properties {
    std::string name;
    int sm_major = 0, sm_minor = 0;
    std::size_t total_memory = 0;  // bytes
    int multiprocessors = 0;
};

/// Number of usable CUDA devices; 0 when there is no driver or no device (never throws).
int device_count() noexcept;
/// Properties of device `device`; throws cuda_error when it does not exist.
device_properties properties(int device);

class context : public hoprag::context {
public:
    /// Binds device `device`, creates a stream, a cuBLASLt handle and a 32 MiB GEMM workspace.
    explicit context(int device = 0, std::uint64_t seed = 0, log_sink sink = {});
    /// Device 0, with cpu::context's (seed, sink) arguments, so backend-generic code builds either.
    context(std::uint64_t seed, log_sink sink) : context(0, seed, std::move(sink)) {}
    ~context();
    context(const context&) = delete;
    context& operator=(const context&) = delete;

    int device() const;
    void* stream() const;          // cudaStream_t
    void* blaslt() const;          // cublasLtHandle_t
    void* workspace() const;       // device memory for cuBLASLt
    std::size_t workspace_bytes() const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

/// Device memory (stream-ordered on the context's stream); throws cuda_error on failure.
void* allocate(context& ctx, std::size_t bytes);
void deallocate(context& ctx, void* p) noexcept;
/// Host -> device and device -> host copies; both synchronise the stream before returning.
void upload(context& ctx, void* dst, const void* src, std::size_t bytes);
void download(context& ctx, void* dst, const void* src, std::size_t bytes);
/// Wait for all work on the context's stream; throws cuda_error if a kernel failed.
void synchronize(context& ctx);

/// The stream-ordered allocator's figures on the context's device (its default memory pool, which
/// `allocate` draws from), in bytes: in use now and the high-water mark since the last reset; the
/// context's own GEMM workspace (cudaMalloc, workspace_bytes()) is outside them.
struct memory_stats {
    std::size_t in_use = 0, peak = 0;
};
memory_stats memory(context& ctx);
/// Starts a new high-water mark at the bytes in use now.
void reset_memory_peak(context& ctx);

}  // namespace hoprag::cuda
