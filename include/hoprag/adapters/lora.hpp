// The LoRA adapter policy and a model-agnostic LoRA adapter set. `lora<Rank, Alpha, Targets>`
// (defaults r = 16, alpha = 32, all seven block linears) is the Adapter slot type of
// `components::generator`; `lora_adapters<Context>` holds one `nn::lora_linear` per targeted linear
// of every layer (A Kaiming-uniform, B zero), with the scale alpha / r. The [out, in] shapes of the
// wrapped linears come from the caller (models/llama/lora.hpp gives them for a Llama decoder, with
// the PEFT save/load in models/llama/peft.hpp); the per-layer math is in nn/lora.hpp.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "hoprag/adapters/targets.hpp"
#include "hoprag/core/error.hpp"
#include "hoprag/core/shape.hpp"
#include "hoprag/nn/lora.hpp"

namespace hoprag::adapters {

/// LoRA policy: rank `Rank` (> 0), scaling alpha / rank, wrapping the linears in `Targets`.
template <int Rank = 16, int Alpha = 32, target_set Targets = all_targets>
struct lora {
    static_assert(Rank > 0, "lora: Rank must be > 0");
    static_assert(Targets.bits != 0, "lora: the target set is empty; use adapters::none for no adapter");
    static constexpr const char* name = "lora";
    static constexpr bool enabled = true;
    static constexpr std::int64_t rank = Rank;
    static constexpr double alpha = Alpha;
    static constexpr float scale = static_cast<float>(Alpha) / static_cast<float>(Rank);
    static constexpr target_set targets = Targets;
};

static_assert(adapter_policy<lora<>>);

/// [out, in] of the linear layer behind each target, indexed by target (the same in every layer).
using target_shapes = std::array<shape, target_count>;

/// Adapters of every layer of one decoder.
template <class Context>
struct lora_adapters {
    std::int64_t rank = 0;
    double alpha = 0.0;
    target_set targets{};
    float dropout = 0.0f;                                                      // training-time input dropout
    std::vector<std::array<nn::lora_linear<Context>, target_count>> layers;    // [num_layers][target]; empty when not targeted

    float scale() const { return rank ? static_cast<float>(alpha / static_cast<double>(rank)) : 0.0f; }
    /// The adapter of (layer, t), or nullptr when t is not targeted.
    const nn::lora_linear<Context>* find(std::size_t layer, target t) const {
        if (layer >= layers.size()) return nullptr;
        const auto& l = layers[layer][static_cast<std::size_t>(t)];
        return l.empty() ? nullptr : &l;
    }
    nn::lora_linear<Context>* find(std::size_t layer, target t) {
        return const_cast<nn::lora_linear<Context>*>(static_cast<const lora_adapters&>(*this).find(layer, t));
    }
    /// Trainable parameter count.
    std::int64_t parameter_count() const {
        std::int64_t n = 0;
        for (const auto& layer : layers)
            for (const auto& l : layer) n += l.rank * (l.in + l.out);
        return n;
    }
};

/// Fresh adapters (A from Philox stream (seed, 8 * layer + target), B = 0) for `num_layers` layers
/// whose targeted linears have the [out, in] shapes `shapes`.
template <class Context>
lora_adapters<Context> make_lora_adapters(Context& ctx, const target_shapes& shapes, std::int64_t num_layers, std::int64_t rank, double alpha,
                                          target_set targets, std::uint64_t seed, float dropout = 0.0f) {
    if (rank <= 0) throw config_error("lora adapters: rank must be > 0, got " + std::to_string(rank));
    if (num_layers < 0) throw config_error("lora adapters: num_layers must be >= 0, got " + std::to_string(num_layers));
    if (!(dropout >= 0.0f && dropout < 1.0f)) throw config_error("lora adapters: dropout must be in [0, 1), got " + std::to_string(dropout));
    lora_adapters<Context> a;
    a.rank = rank, a.alpha = alpha, a.targets = targets, a.dropout = dropout;
    a.layers.resize(static_cast<std::size_t>(num_layers));
    for (std::size_t l = 0; l < a.layers.size(); ++l)
        for (auto t : all_target_list) {
            if (!targets.contains(t)) continue;
            const auto& s = shapes[static_cast<std::size_t>(t)];
            a.layers[l][static_cast<std::size_t>(t)] =
                nn::make_lora(ctx, s[1], s[0], rank, static_cast<float>(alpha), seed, 8 * l + static_cast<std::uint64_t>(t));
        }
    return a;
}

}  // namespace hoprag::adapters
