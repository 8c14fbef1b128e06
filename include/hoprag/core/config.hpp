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
