// LoRA adapters of a Llama-family decoder in the PEFT folder layout, so a PEFT user can load
// hoprag's adapters and vice versa:
//   adapter_model.safetensors  f32 tensors
//       base_model.model.model.layers.N.<module path>.lora_A.weight  [r, in]
//       base_model.model.model.layers.N.<module path>.lora_B.weight  [out, r]
//     with module paths self_attn.{q,k,v,o}_proj and mlp.{gate,up,down}_proj;
//   adapter_config.json        {"peft_type": "LORA", "r", "lora_alpha", "target_modules",
//                               "lora_dropout", "bias": "none", "base_model_name_or_path",
//                               "task_type": "CAUSAL_LM", ...}.
// Both files are written durably (temporary name, fsync, rename). Loading checks the config
// (LORA, bias none, no per-module rank/alpha patterns, no DoRA) and every tensor name and shape
// against the decoder config, and lists all problems in one format_error.
#pragma once

#include <cmath>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hoprag/adapters/lora.hpp"
#include "hoprag/adapters/targets.hpp"
#include "hoprag/core/error.hpp"
#include "hoprag/io/durable_file.hpp"
#include "hoprag/io/json_fields.hpp"
#include "hoprag/io/safetensors.hpp"
#include "hoprag/models/llama/config.hpp"
#include "hoprag/models/llama/lora.hpp"

namespace hoprag::models::llama {

/// PEFT tensor name of the A (is_a) or B matrix of (layer, t).
inline std::string peft_tensor_name(std::size_t layer, adapters::target t, bool is_a) {
    return "base_model.model.model.layers." + std::to_string(layer) + "." + std::string(adapters::hf_module_paths[static_cast<std::size_t>(t)]) +
           (is_a ? ".lora_A.weight" : ".lora_B.weight");
}

/// Writes `a` to folder `dir` (created if needed) as adapter_model.safetensors + adapter_config.json.
template <class Context>
void save_peft(const std::filesystem::path& dir, const adapters::lora_adapters<Context>& a, const std::string& base_model_name_or_path) {
    std::filesystem::create_directories(dir);
    std::vector<std::vector<float>> host;
    std::vector<io::safetensors_entry> entries;
    host.reserve(a.layers.size() * adapters::target_count * 2);
    for (std::size_t l = 0; l < a.layers.size(); ++l)
        for (auto t : adapters::all_target_list) {
            const auto* m = a.find(l, t);
            if (!m) continue;
            host.push_back(m->a.to_host());
            entries.push_back({peft_tensor_name(l, t, true), io::st_dtype::f32, shape{m->rank, m->in}, std::as_bytes(std::span(host.back()))});
            host.push_back(m->b.to_host());
            entries.push_back({peft_tensor_name(l, t, false), io::st_dtype::f32, shape{m->out, m->rank}, std::as_bytes(std::span(host.back()))});
        }
    io::write_safetensors(dir / "adapter_model.safetensors", entries, {{"format", "pt"}});
    nlohmann::ordered_json j;
    j["peft_type"] = "LORA";
    j["task_type"] = "CAUSAL_LM";
    j["base_model_name_or_path"] = base_model_name_or_path;
    j["r"] = a.rank;
    j["lora_alpha"] = a.alpha;
    j["lora_dropout"] = std::round(double(a.dropout) * 1e6) / 1e6;  // 0.05f, not 0.05000000074505806
    nlohmann::ordered_json mods = nlohmann::ordered_json::array();
    for (auto t : adapters::all_target_list)
        if (a.targets.contains(t)) mods.push_back(std::string(adapters::peft_module_names[static_cast<std::size_t>(t)]));
    j["target_modules"] = mods;
    j["bias"] = "none";
    j["fan_in_fan_out"] = false;
    j["inference_mode"] = true;
    j["init_lora_weights"] = true;
    j["modules_to_save"] = nullptr;
    j["use_rslora"] = false;
    j["use_dora"] = false;
    io::write_file_durably(dir / "adapter_config.json", j.dump(2) + "\n");
}

/// Reads a PEFT LoRA folder for decoder config c into backend memory. Throws config_error for an
/// unsupported adapter_config.json and format_error (listing every problem) for tensors that do
/// not match c.
template <class Context>
adapters::lora_adapters<Context> load_peft(Context& ctx, const std::filesystem::path& dir, const config& c) {
    const auto cfg_path = dir / "adapter_config.json";
    const nlohmann::json j = io::read_json_file(cfg_path);
    const std::string origin = cfg_path.string();
    const auto bad = [&](const std::string& what) { return config_error(origin + ": " + what); };
    const io::json_fields f(j, origin, "a PEFT adapter config");
    if (f.string("peft_type") != "LORA") throw bad("peft_type is '" + f.string("peft_type") + "', expected 'LORA'");
    if (j.contains("bias") && j["bias"] != "none") throw bad("bias is " + j["bias"].dump() + "; only \"none\" is supported");
    for (const char* key : {"rank_pattern", "alpha_pattern"})
        if (j.contains(key) && j[key].is_object() && !j[key].empty()) throw bad(std::string(key) + " is not empty; per-module ranks/alphas are not supported");
    if (j.contains("use_dora") && j["use_dora"] == true) throw bad("use_dora is true; DoRA adapters are not supported");
    if (j.contains("use_rslora") && j["use_rslora"] == true) throw bad("use_rslora is true; rank-stabilised scaling is not supported");
    adapters::lora_adapters<Context> a;
    a.rank = f.integer("r");
    a.alpha = f.number("lora_alpha");
    a.dropout = static_cast<float>(f.number_or("lora_dropout", 0.0));
    if (a.rank <= 0) throw bad("r is " + std::to_string(a.rank) + ", expected > 0");
    if (!j.contains("target_modules")) throw bad("target_modules is missing");
    std::vector<std::string> mods;
    if (j["target_modules"].is_string()) mods.push_back(j["target_modules"].get<std::string>());
    else if (j["target_modules"].is_array()) for (const auto& m : j["target_modules"]) mods.push_back(m.get<std::string>());
    else throw bad("target_modules must be a list of module names");
    for (const auto& m : mods) {
        bool known = false;
        for (auto t : adapters::all_target_list)
            if (adapters::peft_module_names[static_cast<std::size_t>(t)] == m) a.targets = a.targets.with(t), known = true;
        if (!known) throw bad("target module '" + m + "' is not one of q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj");
    }
    const auto st_path = dir / "adapter_model.safetensors";
    const io::safetensors_file st(st_path);
    const auto shapes = lora_target_shapes(c);
    std::string missing, bad_shape, unexpected;
    std::map<std::string, bool> used;
    for (std::int64_t l = 0; l < c.num_layers; ++l)
        for (auto t : adapters::all_target_list) {
            if (!a.targets.contains(t)) continue;
            const auto& s = shapes[static_cast<std::size_t>(t)];
            for (bool is_a : {true, false}) {
                const auto name = peft_tensor_name(static_cast<std::size_t>(l), t, is_a);
                const shape want = is_a ? shape{a.rank, s[1]} : shape{s[0], a.rank};
                used[name] = true;
                const auto* tensor = st.find(name);
                if (!tensor) missing += (missing.empty() ? "" : ", ") + name;
                else if (!(tensor->dims == want)) bad_shape += (bad_shape.empty() ? "" : ", ") + name + " is " + tensor->dims.str() + " (expected " + want.str() + ")";
            }
        }
    for (const auto& t : st.tensors())
        if (!used.count(std::string(t.name))) unexpected += (unexpected.empty() ? "" : ", ") + std::string(t.name);
    if (!missing.empty() || !bad_shape.empty() || !unexpected.empty()) {
        std::string msg = st_path.string() + ": tensors do not match a rank-" + std::to_string(a.rank) + " LoRA of a " + std::to_string(c.num_layers) + "-layer decoder";
        if (!missing.empty()) msg += "; missing: " + missing;
        if (!bad_shape.empty()) msg += "; wrong shape: " + bad_shape;
        if (!unexpected.empty()) msg += "; unexpected: " + unexpected;
        throw format_error(msg);
    }
    a.layers.resize(static_cast<std::size_t>(c.num_layers));
    for (std::size_t l = 0; l < a.layers.size(); ++l)
        for (auto t : adapters::all_target_list) {
            if (!a.targets.contains(t)) continue;
            const auto& s = shapes[static_cast<std::size_t>(t)];
            auto& m = a.layers[l][static_cast<std::size_t>(t)];
            m.in = s[1], m.out = s[0], m.rank = a.rank, m.scale = a.scale();
            m.a = buffer<Context, float>(ctx, st.at(peft_tensor_name(l, t, true)).to_f32());
            m.b = buffer<Context, float>(ctx, st.at(peft_tensor_name(l, t, false)).to_f32());
        }
    return a;
}

}  // namespace hoprag::models::llama
