// Test support for the cross-encoder: a tiny random BERT folder (config.json, model.safetensors and
// the all-MiniLM-L6-v2 tokenizer.json) and a padded batch of three pairs with hand-made ids.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hoprag/io/safetensors.hpp"
#include "hoprag/models/bert/cross_encoder.hpp"
#include "support/files.hpp"
#include "support/reference.hpp"

namespace hoprag::test {

/// The all-MiniLM-L6-v2 folder (a BertModel with pooler, no classifier).
inline std::string minilm() { return source_dir() + "/.cache/models/all-minilm-l6-v2"; }

/// A tiny random BERT (vocab 37, H 8, 2 layers, 2 heads, I 12, 64 positions) with the MiniLM
/// tokenizer file; `with_head` adds pooler + classifier tensors (`labels` outputs); vocab 30522
/// makes it take the tokenizer's real ids.
inline std::filesystem::path tiny_model(const std::string& name, bool with_head = true, std::int64_t labels = 1,
                                        std::int64_t vocab = 37) {
    const auto dir = fresh_dir(name);
    const nlohmann::json cfg{{"vocab_size", vocab}, {"hidden_size", 8}, {"num_hidden_layers", 2}, {"num_attention_heads", 2},
                             {"intermediate_size", 12}, {"max_position_embeddings", 64}, {"type_vocab_size", 2},
                             {"layer_norm_eps", 1e-12}, {"hidden_act", "gelu"}};
    std::ofstream(dir / "config.json") << cfg.dump();
    std::filesystem::copy_file(minilm() + "/tokenizer.json", dir / "tokenizer.json");
    const auto c = models::bert::config_from_json(cfg, "tiny");
    auto shapes = models::bert::cross_encoder_shapes(c);
    shapes.pop_back();  // retriever_weight: a Hugging Face file has none
    if (!with_head) shapes.resize(shapes.size() - 4);
    std::vector<std::vector<float>> data;
    std::vector<io::safetensors_entry> entries;
    std::uint64_t stream = 1;
    for (auto& [n, s] : shapes) {
        if (n == "classifier.weight") s[0] = labels;
        if (n == "classifier.bias") s[0] = labels;
        std::int64_t numel = 1;
        for (auto d : s) numel *= d;
        const bool ln_w = n.find("LayerNorm.weight") != std::string::npos;
        auto v = random_floats(static_cast<std::size_t>(numel), 11, ln_w ? 0.5f : -0.6f, ln_w ? 1.5f : 0.6f, stream++);
        data.push_back(std::move(v));
        shape sh;
        sh.rank = static_cast<int>(s.size());
        for (int d = 0; d < sh.rank; ++d) sh.dims[static_cast<std::size_t>(d)] = s[static_cast<std::size_t>(d)];
        entries.push_back({n, io::st_dtype::f32, sh, std::as_bytes(std::span<const float>(data.back()))});
    }
    io::write_safetensors(dir / "model.safetensors", entries);
    return dir;
}

/// Three pairs of lengths 9, 6 and 4 (ids < 37, type ids 0 then 1): a padded batch.
inline std::vector<tokenizers::encoding> tiny_pairs() {
    std::vector<tokenizers::encoding> p(3);
    const std::vector<std::vector<std::int32_t>> ids{{2, 5, 9, 3, 30, 31, 7, 36, 3}, {2, 11, 3, 4, 4, 3}, {2, 3, 19, 3}};
    const std::vector<std::size_t> first{4, 3, 2};
    for (std::size_t i = 0; i < 3; ++i) {
        p[i].ids = ids[i];
        p[i].type_ids.assign(ids[i].size(), 1);
        std::fill_n(p[i].type_ids.begin(), first[i], 0);
    }
    return p;
}

/// Weights of the three pairs' logits in the test loss sum_i w_i logit_i.
inline const std::vector<float> loss_weights{0.7f, -1.3f, 0.4f};

}  // namespace hoprag::test
