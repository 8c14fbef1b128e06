// The CUDA backend policy: `hoprag::cuda::backend` selects cuda::context, and through it, by
// argument-dependent lookup, every op declared in namespace hoprag::cuda. CUDA-free: host-only
// code (range-v3 pipelines, components) includes this and calls into the .cu translation units.
#pragma once

#include "hoprag/cuda/adamw.hpp"
#include "hoprag/cuda/attention.hpp"
#include "hoprag/cuda/context.hpp"
#include "hoprag/cuda/cross_entropy.hpp"
#include "hoprag/cuda/elementwise.hpp"
#include "hoprag/cuda/embedding.hpp"
#include "hoprag/cuda/gemm.hpp"
#include "hoprag/cuda/nf4_gemm.hpp"
#include "hoprag/cuda/norms.hpp"
#include "hoprag/cuda/pooling.hpp"
#include "hoprag/cuda/profile.hpp"
#include "hoprag/cuda/rope.hpp"
#include "hoprag/cuda/softmax.hpp"
#include "hoprag/cuda/topk.hpp"

namespace hoprag::cuda {

struct backend {
    using context = cuda::context;
    static constexpr const char* name = "cuda";
    /// The hardware profile of the GPU present (t4, a100 or h100; see cuda::detect_profile).
    static profile_info detect_profile() { return cuda::detect_profile(); }
};

}  // namespace hoprag::cuda
