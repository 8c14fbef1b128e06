// PEFT folder compatibility of a Llama decoder's LoRA adapters (models/llama/peft.hpp) on a tiny config:
//  * hoprag writes adapter_model.safetensors byte-identical to tests/golden/peft_hoprag/, a folder
//    that tests/golden/make_peft_golden.py read back with the PyPI `safetensors` package and whose
//    names and shapes (as Python saw them) are in peft_hoprag_check.json — checked here too;
//  * a PEFT-style folder made by that script (q_proj, v_proj only; PEFT's extra config keys) loads
//    into hoprag with the values the script wrote;
//  * save -> load round trip, and one format_error listing bad names/shapes.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "hoprag/cpu/backend.hpp"
#include "hoprag/models/llama/peft.hpp"
#include "support/reference.hpp"

using namespace hoprag;
namespace llama = hoprag::models::llama;
namespace fs = std::filesystem;

namespace {

/// The config the golden script also uses (tests/golden/make_peft_golden.py: CONFIG).
llama::config peft_config() {
    llama::config c;
    c.vocab_size = 37, c.hidden_size = 24, c.num_layers = 2, c.num_heads = 4, c.num_kv_heads = 2, c.head_dim = 6;
    c.intermediate_size = 20, c.rms_norm_eps = 1e-5;
    return c;
}

std::string read_bytes(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), {}};
}

fs::path golden() { return fs::path(test::source_dir()) / "tests" / "golden"; }

/// The adapter whose bytes are committed: seed 7, B filled with a Philox pattern so it is not zero.
adapters::lora_adapters<cpu::context> reference_adapter(cpu::context& ctx) {
    auto a = llama::make_lora_adapters<adapters::lora<4, 8>>(ctx, peft_config(), 7, 0.05f);
    std::uint64_t stream = 100;
    for (auto& layer : a.layers)
        for (auto& l : layer) l.b.assign(test::random_floats(l.b.size(), 7, -0.1f, 0.1f, stream++));
    return a;
}

}  // namespace

TEST_CASE("hoprag's PEFT folder matches the golden one that Python's safetensors read", "[peft]") {
    cpu::context ctx;
    const auto a = reference_adapter(ctx);
    const fs::path dir = fs::path(test::binary_dir()) / "test-peft-out";
    fs::remove_all(dir);
    llama::save_peft(dir, a, "HuggingFaceTB/SmolLM2-135M-Instruct");
    CHECK(read_bytes(dir / "adapter_model.safetensors") == read_bytes(golden() / "peft_hoprag" / "adapter_model.safetensors"));
    const auto cfg = io::read_json_file(dir / "adapter_config.json");
    CHECK(cfg["peft_type"] == "LORA");
    CHECK(cfg["task_type"] == "CAUSAL_LM");
    CHECK(cfg["r"] == 4);
    CHECK(cfg["lora_alpha"] == 8.0);
    CHECK(cfg["bias"] == "none");
    CHECK(cfg["target_modules"] == nlohmann::json::array({"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}));
    CHECK(cfg["base_model_name_or_path"] == "HuggingFaceTB/SmolLM2-135M-Instruct");

    // what Python's safetensors saw in the golden file
    const auto check = io::read_json_file(golden() / "peft_hoprag_check.json");
    const io::safetensors_file st(dir / "adapter_model.safetensors");
    REQUIRE(check["tensors"].size() == st.tensors().size());
    REQUIRE(st.tensors().size() == 2 * 7 * 2);
    for (const auto& [name, info] : check["tensors"].items()) {
        const auto* t = st.find(name);
        INFO(name);
        REQUIRE(t != nullptr);
        REQUIRE(t->dims.rank == 2);
        CHECK(info["shape"][0] == t->dims[0]);
        CHECK(info["shape"][1] == t->dims[1]);
        double sum = 0;
        for (float v : t->to_f32()) sum += v;
        CHECK(std::abs(double(info["sum"]) - sum) < 1e-4);
    }
    CHECK(check["tensors"].contains("base_model.model.model.layers.1.mlp.down_proj.lora_A.weight"));
    CHECK(check["tensors"]["base_model.model.model.layers.0.self_attn.k_proj.lora_B.weight"]["shape"] == nlohmann::json::array({12, 4}));

    // and it loads back unchanged
    const auto back = llama::load_peft(ctx, dir, peft_config());
    CHECK(back.rank == 4);
    CHECK(back.alpha == 8.0);
    CHECK(back.targets == adapters::all_targets);
    CHECK(back.dropout == Approx(0.05f));
    for (std::size_t l = 0; l < 2; ++l)
        for (auto t : adapters::all_target_list) {
            CHECK(back.find(l, t)->a.to_host() == a.find(l, t)->a.to_host());
            CHECK(back.find(l, t)->b.to_host() == a.find(l, t)->b.to_host());
            CHECK(back.find(l, t)->scale == 2.0f);
        }
}

TEST_CASE("a PEFT-style folder made in Python loads into hoprag", "[peft]") {
    cpu::context ctx;
    const auto a = llama::load_peft(ctx, golden() / "peft_python", peft_config());
    CHECK(a.rank == 2);
    CHECK(a.alpha == 16.0);
    CHECK(a.targets == adapters::target_set::of({adapters::target::q, adapters::target::v}));
    CHECK(a.find(0, adapters::target::k) == nullptr);
    const auto values = io::read_json_file(golden() / "peft_python_values.json");
    for (const auto& [name, want] : values.items()) {
        INFO(name);
        const std::size_t layer = name[0] - '0';
        const auto t = name.find("q_proj") != std::string::npos ? adapters::target::q : adapters::target::v;
        const auto* m = a.find(layer, t);
        REQUIRE(m != nullptr);
        const auto got = name.find("lora_A") != std::string::npos ? m->a.to_host() : m->b.to_host();
        REQUIRE(got.size() == want.size());
        for (std::size_t i = 0; i < got.size(); ++i) REQUIRE(got[i] == float(want[i]));
    }
    CHECK(a.find(1, adapters::target::v)->scale == 8.0f);
}

TEST_CASE("loading a PEFT folder names every bad tensor and unsupported config", "[peft]") {
    cpu::context ctx;
    auto c = peft_config();
    c.num_layers = 3;  // the file has 2 layers: layer 2 is missing
    c.hidden_size = 24;
    try {
        (void)llama::load_peft(ctx, golden() / "peft_python", c);
        FAIL("expected format_error");
    } catch (const format_error& e) {
        const std::string msg = e.what();
        CHECK(msg.find("missing: base_model.model.model.layers.2.self_attn.q_proj.lora_A.weight") != std::string::npos);
    }
    auto wide = peft_config();
    wide.intermediate_size = 20, wide.num_kv_heads = 4;  // v_proj becomes [24, 24]
    try {
        (void)llama::load_peft(ctx, golden() / "peft_python", wide);
        FAIL("expected format_error");
    } catch (const format_error& e) {
        CHECK(std::string(e.what()).find("v_proj.lora_B.weight is [12, 2] (expected [24, 2])") != std::string::npos);
    }
    const fs::path dir = fs::path(test::binary_dir()) / "test-peft-bad";
    fs::remove_all(dir);
    fs::create_directories(dir);
    fs::copy_file(golden() / "peft_python" / "adapter_model.safetensors", dir / "adapter_model.safetensors");
    io::write_file_durably(dir / "adapter_config.json", std::string(R"({"peft_type": "LORA", "r": 2, "lora_alpha": 16, "target_modules": ["q_proj"], "use_dora": true})"));
    REQUIRE_THROWS_AS(llama::load_peft(ctx, dir, peft_config()), config_error);
    io::write_file_durably(dir / "adapter_config.json", std::string(R"({"peft_type": "PREFIX_TUNING", "r": 2})"));
    REQUIRE_THROWS_AS(llama::load_peft(ctx, dir, peft_config()), config_error);
}
