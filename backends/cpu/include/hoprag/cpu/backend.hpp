// The CPU backend policy: `hoprag::cpu::backend` selects cpu::context, and through it, by
// argument-dependent lookup, every op in namespace hoprag::cpu. Include this header to get them all.
#pragma once

#include "hoprag/cpu/context.hpp"
#include "hoprag/cpu/gemm.hpp"

namespace hoprag::cpu {

struct backend {
    using context = cpu::context;
    static constexpr const char* name = "cpu";
};

}  // namespace hoprag::cpu
