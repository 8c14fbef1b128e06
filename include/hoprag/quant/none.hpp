// The "no quantisation" policy: base weights stay in their floating-point type (f32 here; bf16
// storage is the backends' cast away). Pairs with quant::nf4 as the Quant slot of Generator.
#pragma once

namespace hoprag::quant {

struct none {
    static constexpr const char* name = "none";
    static constexpr double bits_per_parameter = 32.0;
    static constexpr bool quantizes = false;  // linears stay f32
};

}  // namespace hoprag::quant
