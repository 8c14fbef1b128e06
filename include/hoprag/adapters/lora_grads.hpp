// Gradients of a decoder's LoRA adapters. `lora_grad_set` mirrors `lora_adapters` (one
// nn::lora_grads per adapted linear of every layer; backward ACCUMULATES into it, so zero it at the
// start of an accumulation window). The AdamW state over these gradients is
// models/llama/lora_optimizer.hpp.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "hoprag/adapters/lora.hpp"
#include "hoprag/nn/lora.hpp"

namespace hoprag::adapters {

/// dA, dB of every adapter of a decoder; empty where a linear has no adapter.
template <class Context>
struct lora_grad_set {
    std::vector<std::array<nn::lora_grads<Context>, target_count>> layers;  // [num_layers][target]

    nn::lora_grads<Context>& at(std::size_t layer, target t) { return layers.at(layer)[static_cast<std::size_t>(t)]; }
    const nn::lora_grads<Context>& at(std::size_t layer, target t) const { return layers.at(layer)[static_cast<std::size_t>(t)]; }
};

/// Zeroed gradients shaped like the adapters `a`.
template <class Context>
lora_grad_set<Context> make_lora_grad_set(Context& ctx, const lora_adapters<Context>& a) {
    lora_grad_set<Context> g;
    g.layers.resize(a.layers.size());
    for (std::size_t l = 0; l < a.layers.size(); ++l)
        for (auto t : all_target_list)
            if (const auto* m = a.find(l, t)) g.at(l, t) = nn::make_lora_grads(ctx, *m);
    return g;
}

/// Sets every gradient to zero (start of an accumulation window).
template <class Context>
void zero_grads(Context& ctx, lora_grad_set<Context>& g) {
    for (auto& layer : g.layers)
        for (auto& x : layer) {
            if (x.da.size()) zero_fill(ctx, x.da.data(), static_cast<std::int64_t>(x.da.size()));
            if (x.db.size()) zero_fill(ctx, x.db.data(), static_cast<std::int64_t>(x.db.size()));
        }
}

}  // namespace hoprag::adapters
