// Shared option handling of hoprag-answer and hoprag-pipeline: the generator flags (model, quant,
// adapter or artifact store, prompt format and budgets, --profile / --compute for the block
// linears' GEMM type), the question flags (--questions, --split,
// --limit), and the dispatch from --quant and the adapter flags to generator<Quant, Adapter,
// Backend> (the only place these strings select types, at the program's edge).
#pragma once

#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "hoprag/adapters/lora.hpp"
#include "hoprag/adapters/none.hpp"
#include "hoprag/components/answerer.hpp"
#include "hoprag/components/generator.hpp"
#include "hoprag/data/heldout_split.hpp"
#include "hoprag/data/hotpotqa.hpp"
#include "hoprag/tokenizers/load_tokenizer.hpp"
#include "hoprag/train/artifact_store.hpp"
#include "device_flag.hpp"
#include "hoprag/backend/compute_gemm.hpp"
#include "hoprag/train/precision.hpp"
#include "program_main.hpp"

namespace cli {

/// The LoRA shape every program loads: rank 16, alpha 32 on all linear layers.
using program_lora = hoprag::adapters::lora<16, 32>;

struct generator_flags {
    std::string model, quant = "nf4", adapter, artifacts, artifact_ref = "best", format = "chat", profile = "auto", compute = "auto";
    std::size_t max_tokens = 640, max_new_tokens = 32;  // 640: the budget hoprag-train-generator trains at

    /// Consumes argv[i] (and its value) if it is a generator flag (`model_flag` names the model's
    /// flag); returns whether it was.
    bool parse(int argc, char** argv, int& i, std::string_view model_flag) {
        const std::string a = argv[i];
        const auto value = [&]() -> std::string {
            if (i + 1 >= argc) throw program::usage_error(a + " needs a value");
            return argv[++i];
        };
        if (a == model_flag) model = value();
        else if (a == "--quant") quant = value();
        else if (a == "--adapter") adapter = value();
        else if (a == "--artifacts") artifacts = value();
        else if (a == "--artifact-ref") artifact_ref = value();
        else if (a == "--format") format = value();
        else if (a == "--profile") profile = value();
        else if (a == "--compute") compute = value();
        else if (a == "--max-tokens") max_tokens = program::size_flag(a, value());
        else if (a == "--max-new-tokens") max_new_tokens = program::size_flag(a, value());
        else return false;
        return true;
    }
    void check(std::string_view model_flag) const {
        if (model.empty()) throw program::usage_error(std::string(model_flag) + " PATH is required");
        if (quant != "nf4" && quant != "none") throw program::usage_error("--quant must be nf4 or none, got \"" + quant + "\"");
        hoprag::data::prompt_options po;
        try {
            hoprag::data::set_format(po, format);
            hoprag::train::validate_precision(compute, 0.0);
        } catch (const hoprag::config_error& e) {
            throw program::usage_error(e.what());
        }
        if (!adapter.empty() && !artifacts.empty()) throw program::usage_error("give --adapter or --artifacts, not both");
        (void)program::device_profile<hoprag::cpu::backend>(profile);
    }
    /// The block linears' compute type on Backend: --compute, or with auto the --profile's.
    template <class Backend>
    hoprag::dtype compute_type() const {
        return compute == "auto" ? program::device_profile<Backend>(profile).compute_type : hoprag::parse_compute_type(compute);
    }
    hoprag::components::answer_options answer_options() const {
        hoprag::components::answer_options ao;
        hoprag::data::set_format(ao.prompt, format);
        ao.prompt.max_tokens = max_tokens;
        ao.max_new_tokens = static_cast<std::int64_t>(max_new_tokens);
        return ao;
    }
};

/// Loads the generator of `flags` on `Backend` (an artifact store's adapter is fetched next to
/// `out` as OUT.adapter), sets its compute type (flags.compute_type) and returns f(generator,
/// tokenizer, adapter description).
template <class Backend, class F>
decltype(auto) with_generator(const generator_flags& flags, const std::filesystem::path& out, F&& f) {
    namespace fs = std::filesystem;
    namespace comp = hoprag::components;
    const auto load = [&]<class Quant, class Adapter>() {
        using gen_t = comp::generator<Quant, Adapter, Backend>;
        typename Backend::context ctx;
        const fs::path model(flags.model);
        if (!fs::exists(model)) throw hoprag::io_error(flags.model + ": no such file or folder (a GGUF file or a model folder is needed)");
        gen_t g = fs::is_directory(model) ? gen_t::from_hf(ctx, model) : gen_t::from_gguf(ctx, model);
        const auto tok = hoprag::tokenizers::load_tokenizer(model);
        std::string adapter = flags.adapter;
        if constexpr (Adapter::enabled) {
            fs::path dir = flags.adapter;
            if (dir.empty()) {
                const hoprag::train::artifact_store store(flags.artifacts);
                dir = out.parent_path() / (out.filename().string() + ".adapter");
                store.fetch("adapter", flags.artifact_ref, dir);
                adapter = flags.artifacts + " adapter:" + store.resolve("adapter", flags.artifact_ref).tag();
            }
            g.load_adapter(dir);
        }
        g.set_compute_type(flags.template compute_type<Backend>());
        return f(g, tok, adapter);
    };
    const bool adapted = !flags.adapter.empty() || !flags.artifacts.empty();
    namespace q = hoprag::quant;
    namespace a = hoprag::adapters;
    if (flags.quant == "nf4") return adapted ? load.template operator()<q::nf4, program_lora>() : load.template operator()<q::nf4, a::none>();
    return adapted ? load.template operator()<q::none, program_lora>() : load.template operator()<q::none, a::none>();
}

/// Questions of FILE after --split and --limit.
struct question_flags {
    std::string file, split = "all";
    std::size_t limit = 0;

    bool parse(int argc, char** argv, int& i) {
        const std::string a = argv[i];
        const auto value = [&]() -> std::string {
            if (i + 1 >= argc) throw program::usage_error(a + " needs a value");
            return argv[++i];
        };
        if (a == "--questions") file = value();
        else if (a == "--split") split = value();
        else if (a == "--limit") limit = program::size_flag(a, value());
        else return false;
        return true;
    }
    void check() const {
        if (file.empty()) throw program::usage_error("--questions FILE is required");
        try {
            (void)hoprag::data::parse_split_part(split);
        } catch (const hoprag::config_error& e) {
            throw program::usage_error(std::string("--split: ") + e.what());
        }
    }
    /// The questions of `all` (the records of FILE) in --split, the first --limit of them.
    std::vector<hoprag::data::hotpot_record> select(std::vector<hoprag::data::hotpot_record> all, const char* program) const {
        auto records = hoprag::data::select_split(std::move(all), hoprag::data::parse_split_part(split));
        if (limit && records.size() > limit) records.resize(limit);
        std::cerr << program << ": " << records.size() << " questions (split " << split << ")\n";
        return records;
    }
};

}  // namespace cli
