// The CUDA backend policy: `hoprag::cuda::backend` selects cuda::context, and through it, by
// argument-dependent lookup, every op declared in namespace hoprag::cuda. CUDA-free: host-only
// code (range-v3 pipelines, components) includes this and calls into the .cu translation units.
#pragma once

#include "hoprag/cuda/context.hpp"
#include "hoprag/cuda/gemm.hpp"

namespace hoprag::cuda {

struct backend {
    using context = cuda::context;
    static constexpr const char* name = "cuda";
};

}  // namespace hoprag::cuda
