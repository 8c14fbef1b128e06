// CUDA kernels (launch functors) of NF4 decode and dropout, over the shared bodies in
// hoprag/quant/nf4.hpp and hoprag/kernels/dropout.hpp. nvcc only; included by src/nf4_gemm.cu.
#pragma once

#include <cstdint>

#include "hoprag/core/dtype.hpp"
#include "hoprag/kernels/dropout.hpp"
#include "hoprag/quant/nf4.hpp"

namespace hoprag::cuda::detail {

/// out[i] = element e0 + i of w, rounded to T (f32, bf16 or f16; one thread per element).
template <class T>
struct nf4_decode_fn {
    quant::nf4_view w;
    std::int64_t e0;
    T* out;
    __device__ void operator()(std::int64_t i) const { out[i] = from_float<T>(quant::nf4_element(w, e0 + i)); }
};

struct dropout_fn {
    float* out;
    const float* x;
    float p;
    philox_stream s;
    __device__ void operator()(std::int64_t i) const { out[i] = x[i] * kernels::dropout_factor(s, static_cast<std::uint64_t>(i), p); }
};

}  // namespace hoprag::cuda::detail
