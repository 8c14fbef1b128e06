// Error checking and launch geometry for the CUDA backend's .cu translation units (nvcc only).
// Every CUDA and cuBLASLt call goes through HOPRAG_CUDA_CHECK / HOPRAG_CUBLAS_CHECK, which throw
// hoprag::cuda_error naming the call, the file and line, and CUDA's error string; every launch is
// followed by HOPRAG_CUDA_CHECK_LAUNCH().
#pragma once

#include <cublasLt.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "hoprag/core/error.hpp"

namespace hoprag::cuda::detail {

[[noreturn]] inline void throw_cuda(cudaError_t e, const char* what, const char* file, int line) {
    throw cuda_error(std::string(what) + " failed at " + file + ":" + std::to_string(line) + ": " + cudaGetErrorName(e) + " (" +
                     cudaGetErrorString(e) + ")");
}
[[noreturn]] inline void throw_cublas(cublasStatus_t s, const char* what, const char* file, int line) {
    throw cuda_error(std::string(what) + " failed at " + file + ":" + std::to_string(line) + ": cuBLAS status " +
                     std::to_string(static_cast<int>(s)));
}

/// Blocks of `threads` covering `n` items.
inline unsigned blocks_for(std::int64_t n, unsigned threads) { return static_cast<unsigned>((n + threads - 1) / threads); }

}  // namespace hoprag::cuda::detail

#define HOPRAG_CUDA_CHECK(call)                                                                  \
    do {                                                                                         \
        cudaError_t hoprag_e_ = (call);                                                          \
        if (hoprag_e_ != cudaSuccess) ::hoprag::cuda::detail::throw_cuda(hoprag_e_, #call, __FILE__, __LINE__); \
    } while (0)

#define HOPRAG_CUBLAS_CHECK(call)                                                                  \
    do {                                                                                           \
        cublasStatus_t hoprag_s_ = (call);                                                         \
        if (hoprag_s_ != CUBLAS_STATUS_SUCCESS) ::hoprag::cuda::detail::throw_cublas(hoprag_s_, #call, __FILE__, __LINE__); \
    } while (0)

#define HOPRAG_CUDA_CHECK_LAUNCH() HOPRAG_CUDA_CHECK(cudaGetLastError())

/// cudaStream_t of a hoprag::cuda::context.
#define HOPRAG_STREAM(ctx) static_cast<cudaStream_t>((ctx).stream())
