// hoprag-generate: text generation with a Llama-family decoder (SmolLM2, Llama, Mistral) on the CPU
// backend. Loads a GGUF file or a Hugging Face safetensors folder (and its tokenizer), optionally a
// PEFT LoRA folder, optionally quantises the block linears to NF4, then reads prompts from stdin —
// one JSON string per line — and prints one JSON line per prompt:
// {"text", "tokens", "prompt_tokens", "stop_reason"}. Greedy unless --temperature > 0 (then
// top-p sampling, reproducible from --seed). Progress and timing go to stderr.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hoprag/components/generator.hpp"
#include "hoprag/tokenizers/chat_template.hpp"
#include "hoprag/tokenizers/load_tokenizer.hpp"
#include "device_flag.hpp"
#include "program_main.hpp"

namespace fs = std::filesystem;
using namespace hoprag;

namespace {

constexpr const char* usage = R"(usage: hoprag-generate --model PATH [options] < prompts.jsonl
Reads prompts from stdin, one JSON string per line ("What is 2+2?"), and prints one JSON line per
prompt: {"text": ..., "tokens": [ids...], "prompt_tokens": n, "stop_reason": ...}.
  --model PATH          a GGUF file or a Hugging Face folder (config.json, *.safetensors,
                        tokenizer.json) of a Llama-family decoder (Llama, SmolLM2, Mistral)
  --adapter DIR         a PEFT LoRA folder (adapter_config.json + adapter_model.safetensors)
  --quant Q             none|nf4: keep the block linears in f32, or quantise them to NF4 at load  [none]
  --max-new-tokens N    generate at most N tokens per prompt                  [64]
  --temperature T       0 = greedy; > 0 samples from softmax(logits / T)      [0]
  --top-p P             nucleus sampling mass, in (0, 1]                      [1]
  --seed S              sampling seed (same seed, same tokens)                [0]
  --stop STR            stop once the continuation contains STR (repeatable); the text ends
                        before STR, the tokens include the one that completed it
  --no-eos              do not stop at the model's end-of-sequence token
  --chat                wrap each prompt as a user turn in the model's chat template (ChatML,
                        Mistral [INST] ... [/INST] or Llama-3 headers, read from the tokenizer)
  --chat-format F       the same in the named template: chatml|mistral|llama3
  --help                show this text
Threads: OMP_NUM_THREADS (default: all cores).
Exit status: 0 done, 1 error (one line on stderr naming the input line or file), 2 bad usage.)";

using program::usage_error;

struct options {
    std::string model, adapter, quant = "none", device = "auto";
    std::int64_t max_new_tokens = 64;
    double temperature = 0.0, top_p = 1.0;
    std::uint64_t seed = 0;
    std::vector<std::string> stops;
    std::string chat;  // empty: no template; "auto": the tokenizer's; else a chat_family name
    bool eos = true;
};

options parse_args(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const auto value = [&]() -> std::string {
            if (i + 1 >= argc) throw usage_error("option " + a + " needs a value");
            return argv[++i];
        };
        if (a == "--model") o.model = value();
        else if (a == "--adapter") o.adapter = value();
        else if (a == "--quant") o.quant = value();
        else if (a == "--device") o.device = value();
        else if (a == "--max-new-tokens") o.max_new_tokens = program::number_flag<std::int64_t>(a, value());
        else if (a == "--temperature") o.temperature = program::number_flag<double>(a, value());
        else if (a == "--top-p") o.top_p = program::number_flag<double>(a, value());
        else if (a == "--seed") o.seed = program::number_flag<std::uint64_t>(a, value());
        else if (a == "--stop") o.stops.push_back(value());
        else if (a == "--chat") o.chat = "auto";
        else if (a == "--chat-format") o.chat = value();
        else if (a == "--no-eos") o.eos = false;
        else throw usage_error("unknown option \"" + a + "\"");
    }
    if (o.model.empty()) throw usage_error("missing --model PATH");
    if (o.quant != "none" && o.quant != "nf4") throw usage_error("--quant must be none or nf4, found \"" + o.quant + "\"");
    if (!o.chat.empty() && o.chat != "auto") try {
            (void)tokenizers::parse_chat_family(o.chat);
        } catch (const config_error& e) {
            throw usage_error(std::string("--chat-format: ") + e.what());
        }
    if (o.max_new_tokens < 0) throw usage_error("--max-new-tokens must be >= 0");
    if (!(o.temperature >= 0.0)) throw usage_error("--temperature must be >= 0");
    if (!(o.top_p > 0.0 && o.top_p <= 1.0)) throw usage_error("--top-p must be in (0, 1]");
    for (const auto& s : o.stops)
        if (s.empty()) throw usage_error("--stop needs a non-empty string");
    return o;
}

template <class Quant, class Backend>
int run(const options& o) {
    using context = typename Backend::context;
    using gen_t = components::generator<Quant, adapters::none, Backend>;
    const auto t0 = std::chrono::steady_clock::now();
    context ctx;
    const fs::path model(o.model);
    if (!fs::exists(model)) throw io_error(o.model + ": no such file or folder (--model wants a GGUF file or a Hugging Face folder)");
    const bool folder = fs::is_directory(model);
    auto gen = folder ? gen_t::from_hf(ctx, model) : gen_t::from_gguf(ctx, model);
    const auto tok = tokenizers::load_tokenizer(model);
    auto lin = gen.make_linears();
    std::optional<adapters::lora_adapters<context>> lora;
    if (!o.adapter.empty()) {
        if (!fs::is_directory(o.adapter)) throw io_error(o.adapter + ": not a folder (--adapter wants a PEFT LoRA folder)");
        lora = models::llama::load_peft(ctx, o.adapter, gen.config());
        lin.lora = &*lora;
    }
    const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cerr << "hoprag-generate: loaded " << o.model << " (" << gen.config().num_layers << " layers, quant " << Quant::name
              << (lora ? ", adapter " + o.adapter : std::string()) << ") in " << load_s << " s\n";

    models::llama::generate_options go;
    go.max_new_tokens = o.max_new_tokens;
    go.sampling.temperature = static_cast<float>(o.temperature);
    go.sampling.top_p = static_cast<float>(o.top_p);
    go.sampling.seed = o.seed;
    go.stop_at_eos = o.eos;
    go.stop_strings = o.stops;
    const auto decode = [&](std::span<const std::int32_t> ids) { return tok.decode(ids); };
    std::optional<tokenizers::chat_family> family;
    if (!o.chat.empty()) family = o.chat == "auto" ? tokenizers::detect_chat_family(tok) : tokenizers::parse_chat_family(o.chat);

    std::string line;
    std::size_t line_no = 0, prompts = 0, total_new = 0;
    double gen_s = 0.0;
    while (std::getline(std::cin, line)) {
        ++line_no;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        const std::string where = "stdin line " + std::to_string(line_no);
        std::string prompt;
        try {
            const auto j = nlohmann::json::parse(line);
            if (!j.is_string()) throw std::runtime_error(where + ": expected a JSON string, found a JSON " + std::string(j.type_name()));
            prompt = j.get<std::string>();
        } catch (const nlohmann::json::exception& e) {
            throw std::runtime_error(where + ": not valid JSON (" + std::string(e.what()) + ")");
        }
        const auto ids = family ? tokenizers::user_turn_ids(tok, *family, prompt) : tok.encode(prompt, true).ids;
        if (ids.empty()) throw std::runtime_error(where + ": the prompt encodes to no tokens");
        const auto t1 = std::chrono::steady_clock::now();
        const auto g = models::llama::generate(ctx, gen.model(), ids, go, decode, lin);
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
        gen_s += s;
        total_new += g.tokens.size();
        ++prompts;
        nlohmann::json out;
        out["text"] = models::llama::text_before_stop(tok.decode(g.tokens), o.stops);
        out["tokens"] = g.tokens;
        out["prompt_tokens"] = ids.size();
        out["stop_reason"] = g.stop_reason;
        std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
        std::cerr << "hoprag-generate: " << where << ": " << ids.size() << " prompt tokens, " << g.tokens.size() << " new tokens in " << s
                  << " s (" << g.stop_reason << ")\n";
    }
    std::cerr << "hoprag-generate: " << prompts << " prompts, " << total_new << " new tokens in " << gen_s << " s"
              << (gen_s > 0 ? " (" + std::to_string(static_cast<double>(total_new) / gen_s) + " tokens/s incl. prefill)" : std::string()) << "\n";
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    return program::guarded_main("hoprag-generate", usage, [&] {
        for (int i = 1; i < argc; ++i)
            if (std::string(argv[i]) == "--help" || std::string(argv[i]) == "-h") throw usage_error("");
        const options o = parse_args(argc, argv);
        return program::run_on_device<true>("hoprag-generate", o.device, [&]<class Backend>() {
            return o.quant == "nf4" ? run<quant::nf4, Backend>(o) : run<quant::none, Backend>(o);
        });
    });
}
