// The Quant policy concept of `components::generator`: a type with a static `name`, the storage
// `bits_per_parameter` of a base weight, and `quantizes` (true when block linears are quantised at
// load). quant::nf4 and quant::none satisfy it.
#pragma once

#include <concepts>

namespace hoprag::quant {

template <class Q>
concept quant_policy = requires {
    { Q::name } -> std::convertible_to<const char*>;
    { Q::bits_per_parameter } -> std::convertible_to<double>;
    { Q::quantizes } -> std::convertible_to<bool>;
};

}  // namespace hoprag::quant
