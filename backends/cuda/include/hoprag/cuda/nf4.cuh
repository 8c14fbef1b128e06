// CUDA kernels (launch functors) of NF4 decode and dropout, over the shared bodies in
// hoprag/quant/nf4.hpp and hoprag/kernels/dropout.hpp. nvcc only; included by src/nf4_gemm.cu.
#pragma once

#include <cstdint>

#include "hoprag/kernels/dropout.hpp"
#include "hoprag/quant/nf4.hpp"

namespace hoprag::cuda::detail {

/// out[i] = element e0 + i of w (one thread per element).
struct nf4_decode_fn {
    quant::nf4_view w;
    std::int64_t e0;
    float* out;
    __device__ void operator()(std::int64_t i) const { out[i] = quant::nf4_element(w, e0 + i); }
};

struct dropout_fn {
    float* out;
    const float* x;
    float p;
    philox_stream s;
    __device__ void operator()(std::int64_t i) const { out[i] = x[i] * kernels::dropout_factor(s, static_cast<std::uint64_t>(i), p); }
};

}  // namespace hoprag::cuda::detail
