// AdamW state of a Llama-family decoder's LoRA adapters. `lora_optimizer` holds the first and second
// moments of every A and B and the `train::adamw_tensor` list that ties parameter, gradient
// (adapters::lora_grad_set) and moments together, so `inspect_grads` (train/gradients.hpp) and
// `adamw_update` (backend) run over all adapters in one call. Tensor names are the PEFT names
// (models/llama/peft.hpp).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "hoprag/adapters/lora.hpp"
#include "hoprag/adapters/lora_grads.hpp"
#include "hoprag/backend/buffer.hpp"
#include "hoprag/core/error.hpp"
#include "hoprag/models/llama/peft.hpp"
#include "hoprag/train/adamw.hpp"

namespace hoprag::models::llama {

/// AdamW moments of every A and B, and the tensor list for inspect_grads / adamw_update.
/// Keeps pointers into `a` and `g`: both must outlive it and keep their buffers.
template <class Context>
class lora_optimizer {
public:
    /// Zero moments for every adapter of `a`; gradients are read from `g` (shaped like `a`).
    /// `decay`: whether weight decay applies to A and B (PEFT + torch AdamW: yes).
    lora_optimizer(Context& ctx, adapters::lora_adapters<Context>& a, adapters::lora_grad_set<Context>& g, bool decay = true) {
        if (g.layers.size() != a.layers.size())
            throw shape_error("lora_optimizer: gradients have " + std::to_string(g.layers.size()) + " layers, adapters " +
                              std::to_string(a.layers.size()));
        std::size_t count = 0;
        for (std::size_t l = 0; l < a.layers.size(); ++l)
            for (auto t : adapters::all_target_list) count += a.find(l, t) ? 2 : 0;
        names_.reserve(count), m_.reserve(count), v_.reserve(count), tensors_.reserve(count);
        const auto add = [&](buffer<Context, float>& p, buffer<Context, float>& grad, std::string name) {
            if (grad.size() != p.size())
                throw shape_error("lora_optimizer: gradient of " + name + " has " + std::to_string(grad.size()) + " elements, expected " +
                                  std::to_string(p.size()));
            const std::vector<float> zeros(p.size(), 0.0f);
            m_.emplace_back(ctx, zeros), v_.emplace_back(ctx, zeros), names_.push_back(std::move(name));
            train::adamw_tensor x;
            x.param = p.data(), x.grad = grad.data(), x.m = m_.back().data(), x.v = v_.back().data();
            x.n = static_cast<std::int64_t>(p.size()), x.decay = decay, x.name = names_.back().c_str();
            tensors_.push_back(x);
        };
        for (std::size_t l = 0; l < a.layers.size(); ++l)
            for (auto t : adapters::all_target_list)
                if (auto* m = a.find(l, t)) {
                    auto& gr = g.at(l, t);
                    add(m->a, gr.da, peft_tensor_name(l, t, true));
                    add(m->b, gr.db, peft_tensor_name(l, t, false));
                }
    }
    lora_optimizer(const lora_optimizer&) = delete;
    lora_optimizer& operator=(const lora_optimizer&) = delete;

    /// Every A and B with its gradient and moments, in PEFT name order of (layer, target, A then B).
    std::span<const train::adamw_tensor> tensors() const { return tensors_; }
    /// First / second moments in the order of tensors() (for optimiser checkpoints).
    std::vector<buffer<Context, float>>& first_moments() { return m_; }
    std::vector<buffer<Context, float>>& second_moments() { return v_; }

    /// One AdamW update of every A and B with the step scalars `s` (see train::make_adamw_step).
    void step(Context& ctx, const train::adamw_step& s) {
        for (const auto& t : tensors_) adamw_update(ctx, t, s);
    }

private:
    std::vector<std::string> names_;
    std::vector<buffer<Context, float>> m_, v_;
    std::vector<train::adamw_tensor> tensors_;
};

}  // namespace hoprag::models::llama
