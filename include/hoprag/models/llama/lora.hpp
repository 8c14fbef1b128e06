// LoRA adapters of a Llama-family decoder: where the seven adapter targets (adapters/targets.hpp)
// sit among the layer fields of weights.hpp, their [out, in] shapes for a decoder config, and fresh
// adapters for a config — explicitly or from a policy `adapters::lora<...>`. The adapter set itself
// is the model-agnostic `adapters::lora_adapters`; PEFT save/load is models/llama/peft.hpp.
#pragma once

#include <cstddef>
#include <cstdint>

#include "hoprag/adapters/lora.hpp"
#include "hoprag/adapters/targets.hpp"
#include "hoprag/models/llama/config.hpp"
#include "hoprag/models/llama/weights.hpp"

namespace hoprag::models::llama {

/// Index into layer_shapes / hf_layer_names of the linear behind target t.
constexpr std::size_t layer_field_of(adapters::target t) {
    constexpr std::size_t fields[adapters::target_count] = {1, 2, 3, 4, 6, 7, 8};
    return fields[static_cast<std::size_t>(t)];
}

/// [out, in] of the linear behind each target in every layer of decoder config c.
inline adapters::target_shapes lora_target_shapes(const config& c) {
    const auto fields = layer_shapes(c);
    adapters::target_shapes s;
    for (auto t : adapters::all_target_list) s[static_cast<std::size_t>(t)] = fields[layer_field_of(t)];
    return s;
}

/// Fresh adapters (A from Philox stream (seed, 8 * layer + target), B = 0) for decoder config c.
template <class Context>
adapters::lora_adapters<Context> make_lora_adapters(Context& ctx, const config& c, std::int64_t rank, double alpha, adapters::target_set targets,
                                                    std::uint64_t seed, float dropout = 0.0f) {
    return adapters::make_lora_adapters(ctx, lora_target_shapes(c), c.num_layers, rank, alpha, targets, seed, dropout);
}

/// Fresh adapters for policy Lora (an adapters::lora<...> type) and decoder config c.
template <class Lora, class Context>
adapters::lora_adapters<Context> make_lora_adapters(Context& ctx, const config& c, std::uint64_t seed, float dropout = 0.0f) {
    static_assert(Lora::enabled, "make_lora_adapters: the policy is not an enabled adapter (adapters::none has no parameters)");
    return make_lora_adapters(ctx, c, Lora::rank, Lora::alpha, Lora::targets, seed, dropout);
}

}  // namespace hoprag::models::llama
