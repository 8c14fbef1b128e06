// hoprag core configuration: version, the host/device function marker and small portable macros.
// Every header of the library includes this first. It never includes CUDA headers: under nvcc the
// compiler defines __CUDACC__ and HOPRAG_HOST_DEVICE expands to `__host__ __device__`, elsewhere to
// nothing, so one function body serves the CPU loop and the CUDA kernel (DESIGN rule 2).
#pragma once

#define HOPRAG_VERSION_MAJOR 0
#define HOPRAG_VERSION_MINOR 1
#define HOPRAG_VERSION_PATCH 0
#define HOPRAG_VERSION_STRING "0.1.0"

#if defined(__CUDACC__)
#define HOPRAG_HOST_DEVICE __host__ __device__
#define HOPRAG_DEVICE_CODE 1
#else
#define HOPRAG_HOST_DEVICE
#define HOPRAG_DEVICE_CODE 0
#endif

#define HOPRAG_INLINE HOPRAG_HOST_DEVICE inline

namespace hoprag {

/// a * b rounded to f32 on its own. In device code nvcc fuses a product with a following add into
/// one FMA (a single rounding); the host build (baseline x86-64: no FMA, nothing contracted) rounds
/// the product first. Shared bodies whose results must be bit-equal on both backends (NF4 absmax,
/// AdamW) write their products with it, so neither compiler fuses them.
HOPRAG_INLINE float mul_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
    return __fmul_rn(a, b);
#else
    return a * b;
#endif
}

}  // namespace hoprag
