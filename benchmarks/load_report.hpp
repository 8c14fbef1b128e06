// Shared body of hoprag-bench-load (CPU) and hoprag-bench-load-cuda: loads a Llama-family
// checkpoint (Hugging Face folder, possibly sharded, or GGUF) into generator<Quant, Adapter,
// Backend>, which streams it tensor by tensor and quantises the block linears to NF4 on the host,
// and prints one JSON object: load seconds, the process's peak RSS (getrusage) before and after,
// the bytes of the resident block linears, the device allocator's high-water mark (CUDA), and the
// memory plan's predicted load peaks for the same config and profile, side by side. With
// --train-steps N it then runs N QLoRA steps (LoRA r16 alpha32 on all seven linears, AdamW,
// gradient checkpointing, batch 1) on random token ids of exactly --seq tokens, the last 32 of
// them targets, in the profile's compute type with its loss scale: seconds and tokens/s per step
// (the first step apart), the loss, and the peaks beside the training plan of that seq.
//   hoprag-bench-load --model DIR [--quant nf4|none] [--profile P] [--source-bytes 2]
//                     [--train-steps N --seq S]
// benchmarks/make_llama_checkpoint.py writes a random Mistral-7B-shaped checkpoint to try it on.
#pragma once

#include <chrono>
#include <numeric>
#include <vector>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "hoprag/backend/profile.hpp"
#include "hoprag/components/generator.hpp"
#include "hoprag/core/host_memory.hpp"
#include "hoprag/models/llama/lora_optimizer.hpp"
#include "hoprag/models/llama/train.hpp"
#include "hoprag/train/adamw.hpp"
#include "hoprag/train/memory_plan.hpp"
#include "hoprag/train/peak_memory.hpp"

namespace hoprag::bench {

struct load_options {
    std::string model, quant = "nf4", profile;
    std::size_t source_bytes = 2;
    std::int64_t train_steps = 0, seq = 2048;
};

inline load_options parse_load_options(int argc, char** argv, std::string_view default_profile) {
    load_options o;
    o.profile = default_profile;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (i + 1 >= argc)
            throw config_error("option " + a + " needs a value (usage: --model DIR [--quant nf4|none] [--profile P] [--source-bytes N] "
                               "[--train-steps N --seq S])");
        const std::string v = argv[++i];
        if (a == "--model") o.model = v;
        else if (a == "--quant") o.quant = v;
        else if (a == "--profile") o.profile = v;
        else if (a == "--source-bytes") o.source_bytes = std::stoul(v);
        else if (a == "--train-steps") o.train_steps = std::stoll(v);
        else if (a == "--seq") o.seq = std::stoll(v);
        else throw config_error("unknown option \"" + a + "\"");
    }
    if (o.model.empty()) throw config_error("--model DIR (a Hugging Face folder or a GGUF file) is required");
    if (o.quant != "nf4" && o.quant != "none") throw config_error("--quant must be nf4 or none");
    if (o.train_steps < 0 || o.seq < 40) throw config_error("need --train-steps >= 0 and --seq >= 40");
    return o;
}

/// Runs o.train_steps QLoRA steps of generator g (see the header) and adds their figures to j.
template <class Generator>
void train_report(typename Generator::context& ctx, Generator& g, const load_options& o, const profile_info& prof,
                  const train::memory_plan& plan, nlohmann::ordered_json& j) {
    namespace llama = models::llama;
    g.set_compute_type(prof.compute_type);
    const std::int64_t seq = o.seq, targets = 32, vocab = g.config().vocab_size;
    std::vector<std::int32_t> ids(static_cast<std::size_t>(seq)), labels(ids.size(), llama::ignore_label);
    const philox_stream rng{1234, 0};
    for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<std::int32_t>(rng.bits(i) % static_cast<std::uint64_t>(vocab));
    for (std::int64_t i = seq - targets; i < seq; ++i) labels[static_cast<std::size_t>(i)] = ids[static_cast<std::size_t>(i)];
    auto grads = adapters::make_lora_grad_set(ctx, g.adapter());
    llama::lora_optimizer<typename Generator::context> opt(ctx, g.adapter(), grads);
    llama::train_workspace<typename Generator::context> ws;
    llama::train_options to;
    to.loss_scale = prof.compute_type == dtype::f16 ? 1024.0f : 1.0f;
    std::vector<double> seconds;
    double loss = 0;
    for (std::int64_t s = 1; s <= o.train_steps; ++s) {
        const auto t0 = std::chrono::steady_clock::now();
        adapters::zero_grads(ctx, grads);
        loss = llama::loss_and_grads(ctx, g, ids, labels, 1, seq, grads, to, &ws);
        opt.step(ctx, train::make_adamw_step(train::adamw_hparams{}, s, 1e-4f, 1.0f / to.loss_scale));
        synchronize(ctx);
        seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    const double later = seconds.size() > 1 ? std::accumulate(seconds.begin() + 1, seconds.end(), 0.0) / double(seconds.size() - 1) : seconds[0];
    j["train_steps"] = o.train_steps, j["seq"] = seq, j["compute"] = std::string(dtype_name(prof.compute_type));
    j["loss_scale"] = to.loss_scale, j["final_loss"] = loss, j["first_step_seconds"] = seconds[0], j["step_seconds"] = later;
    j["tokens_per_s"] = double(seq) / later;
    j["plan_train_mib"] = static_cast<double>(plan.total) / double(train::mib);
    j["plan_train_fits"] = plan.fits;
}

/// Loads o.model on Backend (and with o.train_steps > 0 trains it) and returns the report.
template <class Backend>
nlohmann::ordered_json load_report(const load_options& o) {
    namespace fs = std::filesystem;
    const fs::path model(o.model);
    const auto cfg = fs::is_directory(model) ? models::llama::load_config(model) : models::llama::config_from_gguf(io::gguf_file(model));
    const profile_info prof = profile_named(o.profile);
    auto req = train::training_request<quant::nf4, adapters::none>(2048, 1);
    req.mode = train::plan_mode::inference;
    req.quant = o.quant == "nf4" ? train::plan_quant::nf4 : train::plan_quant::none;
    req.source_dtype_bytes = o.source_bytes;
    const auto plan = train::plan_memory(cfg, prof, req);
    auto train_req = train::training_request<quant::nf4, adapters::lora<16, 32>>(o.seq, 1);
    train_req.quant = req.quant;
    const double rss_before = host_peak_rss_mib();
    typename Backend::context ctx;
    const auto run = [&]<class Quant, class Adapter>() {
        using gen_t = components::generator<Quant, Adapter, Backend>;
        const auto t0 = std::chrono::steady_clock::now();
        gen_t g = fs::is_directory(model) ? gen_t::from_hf(ctx, model) : gen_t::from_gguf(ctx, model);
        synchronize(ctx);
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
        if constexpr (Adapter::enabled) {
            const auto loaded = train::peak_memory_json(ctx);  // (a named object: items() does not keep a temporary alive)
            for (const auto& [k, v] : loaded.items()) j["load_" + k] = v;
            train_report(ctx, g, o, prof, train::plan_memory(cfg, prof, train_req), j);
        }
        const auto peaks = train::peak_memory_json(ctx);
        for (const auto& [k, v] : peaks.items()) j[k] = v;
        return j;
    };
    using lora = adapters::lora<16, 32>;
    if (o.train_steps > 0)
        return o.quant == "nf4" ? run.template operator()<quant::nf4, lora>() : run.template operator()<quant::none, lora>();
    return o.quant == "nf4" ? run.template operator()<quant::nf4, adapters::none>() : run.template operator()<quant::none, adapters::none>();
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
