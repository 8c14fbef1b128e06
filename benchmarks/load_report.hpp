// Shared body of hoprag-bench-load (CPU) and hoprag-bench-load-cuda: loads a Llama-family
// checkpoint (Hugging Face folder, possibly sharded, or GGUF) into generator<Quant, none, Backend>,
// which streams it tensor by tensor and quantises the block linears to NF4 on the host, and prints
// one JSON object: load seconds, the process's peak RSS (getrusage) before and after, the bytes of
// the resident block linears, the device allocator's high-water mark (CUDA), and the memory plan's
// predicted load peaks for the same config and profile, side by side.
//   hoprag-bench-load --model DIR [--quant nf4|none] [--profile P] [--source-bytes 2]
// benchmarks/make_llama_checkpoint.py writes a random Mistral-7B-shaped checkpoint to try it on.
#pragma once

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "hoprag/backend/profile.hpp"
#include "hoprag/components/generator.hpp"
#include "hoprag/core/host_memory.hpp"
#include "hoprag/train/memory_plan.hpp"
#include "hoprag/train/peak_memory.hpp"

namespace hoprag::bench {

struct load_options {
    std::string model, quant = "nf4", profile;
    std::size_t source_bytes = 2;
};

inline load_options parse_load_options(int argc, char** argv, std::string_view default_profile) {
    load_options o;
    o.profile = default_profile;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (i + 1 >= argc) throw config_error("option " + a + " needs a value (usage: --model DIR [--quant nf4|none] [--profile P] [--source-bytes N])");
        const std::string v = argv[++i];
        if (a == "--model") o.model = v;
        else if (a == "--quant") o.quant = v;
        else if (a == "--profile") o.profile = v;
        else if (a == "--source-bytes") o.source_bytes = std::stoul(v);
        else throw config_error("unknown option \"" + a + "\"");
    }
    if (o.model.empty()) throw config_error("--model DIR (a Hugging Face folder or a GGUF file) is required");
    if (o.quant != "nf4" && o.quant != "none") throw config_error("--quant must be nf4 or none");
    return o;
}

/// Loads o.model on Backend and returns the report.
template <class Backend>
nlohmann::ordered_json load_report(const load_options& o) {
    namespace fs = std::filesystem;
    const fs::path model(o.model);
    const auto cfg = fs::is_directory(model) ? models::llama::load_config(model) : models::llama::config_from_gguf(io::gguf_file(model));
    auto req = train::training_request<quant::nf4, adapters::none>(2048, 1);
    req.mode = train::plan_mode::inference;
    req.quant = o.quant == "nf4" ? train::plan_quant::nf4 : train::plan_quant::none;
    req.source_dtype_bytes = o.source_bytes;
    const auto plan = train::plan_memory(cfg, profile_named(o.profile), req);
    const double rss_before = host_peak_rss_mib();
    typename Backend::context ctx;
    const auto run = [&]<class Quant>() {
        using gen_t = components::generator<Quant, adapters::none, Backend>;
        const auto t0 = std::chrono::steady_clock::now();
        const gen_t g = fs::is_directory(model) ? gen_t::from_hf(ctx, model) : gen_t::from_gguf(ctx, model);
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        nlohmann::ordered_json j{{"model", o.model},
                         {"backend", std::string(Backend::name)},
                         {"quant", std::string(Quant::name)},
                         {"profile", o.profile},
                         {"layers", cfg.num_layers},
                         {"parameters", plan.parameters},
                         {"load_seconds", s},
                         {"host_peak_rss_mib_before", rss_before},
                         {"linear_bytes", g.linear_bytes()},
                         {"plan_load_host_mib", static_cast<double>(plan.load_host.bytes) / double(train::mib)},
                         {"plan_load_device_mib", static_cast<double>(plan.load_device.bytes) / double(train::mib)}};
        for (const auto& [k, v] : train::peak_memory_json(ctx).items()) j[k] = v;
        return j;
    };
    return o.quant == "nf4" ? run.template operator()<quant::nf4>() : run.template operator()<quant::none>();
}

/// main() of the two programs.
template <class Backend>
int load_main(int argc, char** argv, std::string_view default_profile) {
    try {
        const auto j = load_report<Backend>(parse_load_options(argc, argv, default_profile));
        std::cout << j.dump() << std::endl;
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "hoprag-bench-load: " << e.what() << "\n";
        return 1;
    }
}

}  // namespace hoprag::bench
