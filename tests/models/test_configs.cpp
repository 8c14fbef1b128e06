// Model configs: BERT from the real all-MiniLM config.json; Llama from the real SmolLM2 GGUF and from
// config.json text (SmolLM2's and Mistral-7B-v0.1's published values), the two SmolLM2 sources
// agreeing; missing, mistyped and inconsistent keys give config_error naming file and key.
#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

#include "hoprag/io/durable_file.hpp"
#include "hoprag/models/bert/config.hpp"
#include "hoprag/models/llama/config.hpp"
#include "support/files.hpp"
#include "support/reference.hpp"

using namespace hoprag;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const fs::path model_dir = fs::path(test::source_dir()) / ".cache" / "models";

const char* smollm2_hf = R"({
  "architectures": ["LlamaForCausalLM"], "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu",
  "hidden_size": 576, "intermediate_size": 1536, "max_position_embeddings": 8192, "model_type": "llama",
  "num_attention_heads": 9, "num_hidden_layers": 30, "num_key_value_heads": 3, "rms_norm_eps": 1e-05,
  "rope_scaling": null, "rope_theta": 100000, "tie_word_embeddings": true, "vocab_size": 49152})";

const char* mistral_hf = R"({
  "architectures": ["MistralForCausalLM"], "bos_token_id": 1, "eos_token_id": 2, "hidden_size": 4096,
  "intermediate_size": 14336, "max_position_embeddings": 32768, "model_type": "mistral",
  "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8, "rms_norm_eps": 1e-05,
  "rope_theta": 10000.0, "sliding_window": 4096, "tie_word_embeddings": false, "vocab_size": 32000})";

/// Writes a GGUF file with the given u32 metadata (plus general.architecture) and no tensors.
fs::path write_gguf(const std::string& name, const std::string& arch, const std::vector<std::pair<std::string, std::uint32_t>>& kv) {
    std::vector<std::byte> b;
    const auto put = [&](const void* p, std::size_t n) {
        const auto* c = static_cast<const std::byte*>(p);
        b.insert(b.end(), c, c + n);
    };
    const auto u32 = [&](std::uint32_t v) { put(&v, 4); };
    const auto u64 = [&](std::uint64_t v) { put(&v, 8); };
    const auto str = [&](const std::string& s) { u64(s.size()); put(s.data(), s.size()); };
    u32(0x46554747u); u32(3); u64(0); u64(kv.size() + 1);
    str("general.architecture"); u32(8); str(arch);
    for (const auto& [k, v] : kv) { str(k); u32(4); u32(v); }
    const fs::path d = fs::path(test::binary_dir()) / "test-models" / std::to_string(::getpid());
    fs::create_directories(d);
    io::write_file_durably(d / name, b);
    return d / name;
}

}  // namespace

TEST_CASE("bert config from the real all-MiniLM-L6-v2 config.json", "[models][config]") {
    test::require_setup_input(model_dir / "all-minilm-l6-v2" / "config.json");
    const auto c = models::bert::load_config(model_dir / "all-minilm-l6-v2");
    REQUIRE(c.vocab_size == 30522);
    REQUIRE(c.hidden_size == 384);
    REQUIRE(c.num_layers == 6);
    REQUIRE(c.num_heads == 12);
    REQUIRE(c.head_dim() == 32);
    REQUIRE(c.intermediate_size == 1536);
    REQUIRE(c.max_position_embeddings == 512);
    REQUIRE(c.type_vocab_size == 2);
    REQUIRE(c.layer_norm_eps == 1e-12);
    REQUIRE(c.hidden_act == "gelu");
}

TEST_CASE("bert config errors name the file and key", "[models][config]") {
    json j = json::parse(R"({"vocab_size": 100, "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
                             "intermediate_size": 128, "max_position_embeddings": 32})");
    REQUIRE(models::bert::config_from_json(j, "c.json").head_dim() == 16);
    auto missing = j;
    missing.erase("num_attention_heads");
    REQUIRE_THROWS_WITH(models::bert::config_from_json(missing, "c.json"),
                        Catch::Contains("c.json") && Catch::Contains("'num_attention_heads' is missing"));
    auto typed = j;
    typed["hidden_size"] = "64";
    REQUIRE_THROWS_AS(models::bert::config_from_json(typed, "c.json"), config_error);
    auto uneven = j;
    uneven["num_attention_heads"] = 5;
    REQUIRE_THROWS_WITH(models::bert::config_from_json(uneven, "c.json"), Catch::Contains("not a multiple"));
    auto act = j;
    act["hidden_act"] = "swish";
    REQUIRE_THROWS_WITH(models::bert::config_from_json(act, "c.json"), Catch::Contains("swish"));
    REQUIRE_THROWS_AS(models::bert::config_from_json(json::array(), "c.json"), config_error);
}

TEST_CASE("llama config from the real SmolLM2 GGUF agrees with its config.json", "[models][config]") {
    const auto gguf_path = model_dir / "smollm2-135m-instruct" / "SmolLM2-135M-Instruct.Q4_1.gguf";
    test::require_setup_input(gguf_path);
    const io::gguf_file g(gguf_path);
    const auto c = models::llama::config_from_gguf(g);
    REQUIRE(c.num_layers == 30);
    REQUIRE(c.hidden_size == 576);
    REQUIRE(c.intermediate_size == 1536);
    REQUIRE(c.num_heads == 9);
    REQUIRE(c.num_kv_heads == 3);
    REQUIRE(c.head_dim == 64);
    REQUIRE(c.vocab_size == 49152);
    REQUIRE(c.max_position_embeddings == 8192);
    REQUIRE(c.rms_norm_eps == static_cast<double>(1e-5f));  // stored as f32 in GGUF
    REQUIRE(c.rope_theta == 100000.0);
    REQUIRE(c.tie_word_embeddings);                          // no output.weight in the file
    REQUIRE(c.sliding_window == 0);
    REQUIRE(c.bos_token_id == 1);
    REQUIRE(c.eos_token_id == 2);

    const auto h = models::llama::config_from_json(json::parse(smollm2_hf), "smollm2/config.json");
    REQUIRE(h.num_layers == c.num_layers);
    REQUIRE(h.hidden_size == c.hidden_size);
    REQUIRE(h.intermediate_size == c.intermediate_size);
    REQUIRE(h.num_heads == c.num_heads);
    REQUIRE(h.num_kv_heads == c.num_kv_heads);
    REQUIRE(h.head_dim == c.head_dim);
    REQUIRE(h.vocab_size == c.vocab_size);
    REQUIRE(h.max_position_embeddings == c.max_position_embeddings);
    REQUIRE(static_cast<float>(h.rms_norm_eps) == static_cast<float>(c.rms_norm_eps));
    REQUIRE(h.rope_theta == c.rope_theta);
    REQUIRE(h.tie_word_embeddings == c.tie_word_embeddings);
    REQUIRE(h.bos_token_id == c.bos_token_id);
    REQUIRE(h.eos_token_id == c.eos_token_id);
}

TEST_CASE("llama config: Mistral's sliding window, defaults and errors", "[models][config]") {
    const auto m = models::llama::config_from_json(json::parse(mistral_hf), "mistral/config.json");
    REQUIRE(m.sliding_window == 4096);
    REQUIRE(m.num_kv_heads == 8);
    REQUIRE(m.head_dim == 128);
    REQUIRE_FALSE(m.tie_word_embeddings);

    auto j = json::parse(mistral_hf);
    j["sliding_window"] = nullptr;  // Mistral v0.2+: full attention
    REQUIRE(models::llama::config_from_json(j, "m").sliding_window == 0);
    j.erase("num_key_value_heads");
    REQUIRE(models::llama::config_from_json(j, "m").num_kv_heads == 32);  // MHA default
    j["head_dim"] = 160;
    REQUIRE(models::llama::config_from_json(j, "m").head_dim == 160);
    j["num_key_value_heads"] = 5;
    REQUIRE_THROWS_WITH(models::llama::config_from_json(j, "m"), Catch::Contains("not a multiple of the KV head count"));
    auto e = json::parse(mistral_hf);
    e.erase("rms_norm_eps");
    REQUIRE_THROWS_WITH(models::llama::config_from_json(e, "mistral/config.json"),
                        Catch::Contains("mistral/config.json") && Catch::Contains("'rms_norm_eps' is missing"));

    const auto ok_keys = std::vector<std::pair<std::string, std::uint32_t>>{
        {"llama.block_count", 2}, {"llama.embedding_length", 64}, {"llama.feed_forward_length", 128},
        {"llama.attention.head_count", 4}, {"llama.vocab_size", 10}};
    // rms eps is missing: the error names the key
    REQUIRE_THROWS_WITH(models::llama::config_from_gguf(io::gguf_file(write_gguf("a.gguf", "llama", ok_keys))),
                        Catch::Contains("a.gguf") && Catch::Contains("llama.attention.layer_norm_rms_epsilon"));
    REQUIRE_THROWS_WITH(models::llama::config_from_gguf(io::gguf_file(write_gguf("b.gguf", "gpt2", ok_keys))),
                        Catch::Contains("'gpt2' is not a Llama-family"));
    auto no_layers = ok_keys;
    no_layers.erase(no_layers.begin());
    REQUIRE_THROWS_WITH(models::llama::config_from_gguf(io::gguf_file(write_gguf("c.gguf", "llama", no_layers))),
                        Catch::Contains("llama.block_count"));
}
