// hoprag-plan-memory: says before a run whether a Llama-family decoder (config.json, HF folder or
// GGUF file) trains with QLoRA — or runs inference — within a hardware profile's memory, using
// train::plan_memory. The terms go to stderr as a table, one JSON object to stdout; a plan that does
// not fit exits 1 with one line naming the largest term.
#include <filesystem>
#include <iostream>
#include <string>

#include "hoprag/io/gguf.hpp"
#include "hoprag/models/llama/config.hpp"
#include "hoprag/train/memory_plan.hpp"
#include "program_main.hpp"

using namespace hoprag;

namespace {

constexpr const char* usage = R"(usage: hoprag-plan-memory --config FILE --profile P --seq N [options]
Plans the memory of a QLoRA training step (or inference) of a Llama-family decoder and says
whether it fits the profile. Table of terms on stderr, one JSON object on stdout.
  --config FILE         config.json, a Hugging Face model folder, or a GGUF file
  --profile P           cpu | t4 (15 GiB usable of the 16 GB card) | a100 (40 GB card: 39 GiB) |
                        a100-80 (80 GB card: 79 GiB) | h100 (79 GiB)
  --seq N               tokens per sequence
  --batch N             sequences per step                                 [1]
  --quant Q             nf4 | none: how the block linears are stored         [nf4]
  --rank R              LoRA rank on q,k,v,o,gate,up,down (0: no adapter)    [16]
  --no-checkpointing    keep every layer's activations instead of recomputing them
  --inference           plan a prefill + KV cache instead of a training step
  --memory-gib X        override the profile's memory budget
  --reserve-mib X       reserve for the CUDA context etc. [512 on GPU profiles, 0 on cpu]
  --help                show this text
Exit status: 0 fits, 1 does not fit or bad input (one line on stderr), 2 bad usage.)";

using program::usage_error;

models::llama::config read_config(const std::filesystem::path& path) {
    if (!std::filesystem::exists(path)) throw io_error(path.string() + ": no such file or folder (--config wants a config.json, a model folder or a GGUF file)");
    if (std::filesystem::is_regular_file(path) && path.extension() == ".gguf") return models::llama::config_from_gguf(io::gguf_file(path));
    return models::llama::load_config(path);
}

}  // namespace

int main(int argc, char** argv) {
    return program::guarded_main("hoprag-plan-memory", usage, [&] {
        std::string config_path, profile = "";
        train::memory_request r;
        r.seq = 0;
        double memory_gib = 0.0;
        for (int i = 1; i < argc; ++i) {
            const std::string a = argv[i];
            const auto value = [&]() -> std::string {
                if (i + 1 >= argc) throw usage_error("option " + a + " needs a value");
                return argv[++i];
            };
            if (a == "--help" || a == "-h") throw usage_error("");
            if (a == "--config") config_path = value();
            else if (a == "--profile") profile = value();
            else if (a == "--seq") r.seq = program::number_flag<std::int64_t>(a, value());
            else if (a == "--batch") r.batch = program::number_flag<std::int64_t>(a, value());
            else if (a == "--rank") r.lora_rank = program::number_flag<std::int64_t>(a, value());
            else if (a == "--no-checkpointing") r.checkpointing = false;
            else if (a == "--inference") r.mode = train::plan_mode::inference;
            else if (a == "--memory-gib") memory_gib = program::number_flag<double>(a, value());
            else if (a == "--reserve-mib") r.reserve_bytes = program::number_flag<std::int64_t>(a, value()) * static_cast<std::int64_t>(train::mib);
            else if (a == "--quant") {
                const std::string q = value();
                if (q != "nf4" && q != "none") throw usage_error("--quant must be nf4 or none, found \"" + q + "\"");
                r.quant = q == "nf4" ? train::plan_quant::nf4 : train::plan_quant::none;
            } else throw usage_error("unknown option \"" + a + "\"");
        }
        if (config_path.empty()) throw usage_error("missing --config FILE");
        if (profile.empty()) throw usage_error("missing --profile (cpu, t4, a100, a100-80 or h100)");
        if (r.seq <= 0) throw usage_error("missing or non-positive --seq N");
        if (r.batch <= 0) throw usage_error("--batch must be > 0");
        if (r.lora_rank < 0) throw usage_error("--rank must be >= 0");
        if (memory_gib < 0) throw usage_error("--memory-gib must be > 0");
        const auto p = [&] {
            try {
                return profile_named(profile);
            } catch (const config_error& e) {
                throw usage_error(std::string("--") + e.what());
            }
        }();
        if (memory_gib > 0) r.memory_bytes = static_cast<std::size_t>(memory_gib * static_cast<double>(gib));
        const auto cfg = read_config(config_path);
        const auto plan = train::plan_memory(cfg, p, r);
        std::cerr << "memory plan of " << config_path << " (" << static_cast<double>(plan.parameters) / 1e9 << "B params, "
                  << plan.adapter_parameters << " adapter params), " << (r.mode == train::plan_mode::training ? "training" : "inference")
                  << ", seq " << r.seq << ", batch " << r.batch << ", quant " << (r.quant == train::plan_quant::nf4 ? "nf4" : "none")
                  << (r.mode == train::plan_mode::training ? (r.checkpointing ? ", checkpointing" : ", no checkpointing") : "") << ":\n"
                  << train::plan_table(plan);
        std::cout << train::plan_json(plan).dump() << std::endl;
        train::require_fits(plan);
        return 0;
    });
}
