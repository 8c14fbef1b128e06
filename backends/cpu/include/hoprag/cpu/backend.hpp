// The CPU backend policy: `hoprag::cpu::backend` selects cpu::context, and through it, by
// argument-dependent lookup, every op in namespace hoprag::cpu. Include this header to get them all.
#pragma once

#include <optional>

#include "hoprag/backend/profile.hpp"

#include "hoprag/cpu/adamw.hpp"
#include "hoprag/cpu/attention.hpp"
#include "hoprag/cpu/bf16_gemv.hpp"
#include "hoprag/cpu/context.hpp"
#include "hoprag/cpu/cross_entropy.hpp"
#include "hoprag/cpu/dropout.hpp"
#include "hoprag/cpu/elementwise.hpp"
#include "hoprag/cpu/embedding.hpp"
#include "hoprag/cpu/gemm.hpp"
#include "hoprag/cpu/nf4_gemm.hpp"
#include "hoprag/cpu/norms.hpp"
#include "hoprag/cpu/pooling.hpp"
#include "hoprag/cpu/rope.hpp"
#include "hoprag/cpu/softmax.hpp"
#include "hoprag/cpu/topk.hpp"

namespace hoprag::cpu {

struct backend {
    using context = cpu::context;
    static constexpr const char* name = "cpu";
    /// The hardware profile this backend runs under: always cpu (f32).
    static profile_info detect_profile() { return select_profile(std::nullopt); }
};

}  // namespace hoprag::cpu
