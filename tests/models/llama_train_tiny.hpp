// Test support for LoRA training of the Llama decoder: a tiny random config whose every block
// linear is a multiple of 64 weights (so NF4 applies), a right-padded batch with target-only
// labels, random non-zero adapters (so every A and B gets a gradient) and helpers to read all
// gradients back. Shared by tests/models/test_llama_train.cpp and the CUDA parity test.
#pragma once

#include <cstdint>
#include <vector>

#include "hoprag/adapters/lora_grads.hpp"
#include "models/llama_tiny.hpp"

namespace hoprag::test {

/// 2 layers, hidden 16, 4 heads / 2 KV heads (head dim 4), FFN 32, vocab 40, tied embeddings.
inline models::llama::config train_tiny_config(bool tied = true) {
    auto c = tiny_llama_config();
    c.vocab_size = 40, c.hidden_size = 16, c.num_heads = 4, c.num_kv_heads = 2, c.head_dim = 4, c.intermediate_size = 32;
    c.tie_word_embeddings = tied;
    return c;
}

/// Batch 2 x seq 7: row 0 full, row 1 right-padded after 5 tokens (pad id 0, label -100).
/// Labels mark the last 4 (row 0) and last 2 real (row 1) tokens as targets.
struct train_batch {
    std::int64_t batch = 2, seq = 7;
    std::vector<std::int32_t> ids = {1, 5, 36, 7, 7, 12, 30, /**/ 2, 9, 11, 39, 4, 0, 0};
    std::vector<std::int32_t> labels = {-100, -100, -100, 7, 7, 12, 30, /**/ -100, -100, -100, 39, 4, -100, -100};
};

/// Sets every A and B to uniform values in [-0.4, 0.4) (Philox seed, one stream per tensor).
template <class Context>
void randomize_adapters(adapters::lora_adapters<Context>& a, std::uint64_t seed) {
    std::uint64_t stream = 100;
    for (std::size_t l = 0; l < a.layers.size(); ++l)
        for (auto t : adapters::all_target_list)
            if (auto* m = a.find(l, t)) {
                m->a.assign(random_floats(m->a.size(), seed, -0.4f, 0.4f, ++stream));
                m->b.assign(random_floats(m->b.size(), seed, -0.4f, 0.4f, ++stream));
            }
}

/// All gradients on the host, in the order of lora_optimizer::tensors() (A then B per adapter).
template <class Context>
std::vector<std::vector<float>> host_grads(const adapters::lora_grad_set<Context>& g) {
    std::vector<std::vector<float>> out;
    for (const auto& layer : g.layers)
        for (const auto& x : layer)
            if (x.da.size()) out.push_back(x.da.to_host()), out.push_back(x.db.to_host());
    return out;
}

}  // namespace hoprag::test
