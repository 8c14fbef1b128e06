// A tiny random Llama as a Hugging Face folder and a small HotpotQA train/dev pair, for the
// program tests of the generator (hoprag-train-generator on the CPU, and the same programs on the
// GPU in the CUDA program tests).
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "hoprag/core/shape.hpp"
#include "hoprag/data/heldout_split.hpp"
#include "hoprag/io/safetensors.hpp"
#include "support/files.hpp"

namespace hoprag::test {

namespace fs = std::filesystem;

/// A tiny random Llama in a Hugging Face folder: 2 layers, hidden 64, 4 heads / 2 KV heads, FFN 128,
/// vocab 1757 (the tiny BPE's 1756 pieces and "<|im_end|>"), tied embeddings; in fresh_dir(tag).
inline fs::path tiny_llama(const std::string& tag = "train-generator-model") {
    const auto dir = fresh_dir(tag);
    auto tok = nlohmann::json::parse(slurp(fs::path(source_dir()) / "tests/golden/spm_tiny_tokenizer.json"));
    const std::int64_t base_vocab = static_cast<std::int64_t>(tok.at("model").at("vocab").size());
    tok["added_tokens"].push_back({{"id", base_vocab}, {"content", "<|im_end|>"}, {"single_word", false}, {"lstrip", false},
                                   {"rstrip", false}, {"normalized", false}, {"special", true}});
    std::ofstream(dir / "tokenizer.json") << tok.dump();
    const std::int64_t vocab = base_vocab + 1, h = 64, layers = 2, heads = 4, kv = 2, hd = 16, ffn = 128;
    std::ofstream(dir / "config.json") << nlohmann::json{{"architectures", {"LlamaForCausalLM"}},
                                                         {"vocab_size", vocab},
                                                         {"hidden_size", h},
                                                         {"num_hidden_layers", layers},
                                                         {"num_attention_heads", heads},
                                                         {"num_key_value_heads", kv},
                                                         {"head_dim", hd},
                                                         {"intermediate_size", ffn},
                                                         {"max_position_embeddings", 512},
                                                         {"rms_norm_eps", 1e-5},
                                                         {"tie_word_embeddings", true},
                                                         {"eos_token_id", vocab - 1}}
                                                             .dump(1);
    std::vector<std::pair<std::string, shape>> specs{{"model.embed_tokens.weight", shape{vocab, h}}, {"model.norm.weight", shape{h}}};
    for (std::int64_t l = 0; l < layers; ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        specs.push_back({p + "input_layernorm.weight", shape{h}});
        specs.push_back({p + "post_attention_layernorm.weight", shape{h}});
        specs.push_back({p + "self_attn.q_proj.weight", shape{heads * hd, h}});
        specs.push_back({p + "self_attn.k_proj.weight", shape{kv * hd, h}});
        specs.push_back({p + "self_attn.v_proj.weight", shape{kv * hd, h}});
        specs.push_back({p + "self_attn.o_proj.weight", shape{h, heads * hd}});
        specs.push_back({p + "mlp.gate_proj.weight", shape{ffn, h}});
        specs.push_back({p + "mlp.up_proj.weight", shape{ffn, h}});
        specs.push_back({p + "mlp.down_proj.weight", shape{h, ffn}});
    }
    std::vector<std::vector<float>> data;
    std::uint64_t stream = 0;
    for (const auto& [name, dims] : specs) {
        const bool norm = dims.rank == 1;
        data.push_back(norm ? std::vector<float>(static_cast<std::size_t>(dims.numel()), 1.0f)
                            : random_floats(static_cast<std::size_t>(dims.numel()), 77, -0.15f, 0.15f, ++stream));
    }
    std::vector<io::safetensors_entry> entries;
    for (std::size_t i = 0; i < specs.size(); ++i)
        entries.push_back({specs[i].first, io::st_dtype::f32, specs[i].second, std::as_bytes(std::span<const float>(data[i]))});
    io::write_safetensors(dir / "model.safetensors", entries);
    return dir;
}

/// A training file (first 4 train questions) and a dev file (its first 16 training-part and first 2
/// held-out questions).
inline std::pair<fs::path, fs::path> tiny_qa_data(const std::string& tag = "train-generator-data") {
    const auto dir = fresh_dir(tag);
    const fs::path shared = fs::path(source_dir()) / "../shared/data/hotpotqa";
    const auto train = lines_of(shared / "hotpot_train_sample.jsonl");
    REQUIRE(train.size() >= 4);
    std::ofstream t(dir / "train.jsonl"), d(dir / "dev.jsonl");
    for (std::size_t i = 0; i < 4; ++i) t << train[i] << "\n";
    int held = 0, kept = 0;
    for (const auto& l : lines_of(shared / "hotpot_dev_sample.jsonl")) {
        if (held == 2 && kept == 16) break;
        const bool h = data::is_heldout(nlohmann::json::parse(l).at("_id").get<std::string>());
        if (h && held < 2) d << l << "\n", ++held;
        if (!h && kept < 16) d << l << "\n", ++kept;
    }
    REQUIRE(held == 2);
    REQUIRE(kept == 16);
    return {dir / "train.jsonl", dir / "dev.jsonl"};
}

}  // namespace hoprag::test
