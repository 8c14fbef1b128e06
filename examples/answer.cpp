// hoprag-answer: answers HotpotQA questions with the generator (base model, optionally with a LoRA
// adapter), from the question's own paragraphs or from ranked passages, and writes the official
// prediction file for hoprag-evaluate. Per-question latency goes to stderr; the last line of stdout
// is one JSON summary object.
#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "hoprag/components/answerer.hpp"
#include "hoprag/components/generator.hpp"
#include "hoprag/data/heldout_split.hpp"
#include "hoprag/data/hotpotqa.hpp"
#include "hoprag/data/prompt.hpp"
#include "hoprag/data/retrieved_passages.hpp"
#include "hoprag/eval/answer_prediction.hpp"
#include "hoprag/eval/citations.hpp"
#include "hoprag/eval/hotpot_metrics.hpp"
#include "hoprag/eval/hotpot_predictions_io.hpp"
#include "hoprag/io/durable_file.hpp"
#include "hoprag/tokenizers/load_tokenizer.hpp"
#include "hoprag/train/artifact_store.hpp"
#include "device_flag.hpp"
#include "program_main.hpp"

namespace {

constexpr const char* usage = R"(usage: hoprag-answer --model PATH --questions FILE --out PRED.json [options]

Answers the questions of FILE (HotpotQA, JSON array or JSON Lines) with the generator and writes
PRED.json in the official format {"answer": {id: text}, "sp": {id: [[title, sent_id], ...]}}.
Contexts: by default each question's own context paragraphs (the distractor setting: gold forced
in, plus distractors) in file order; with --retrieved, the first --top passages of its line in a
ranked passage file (hoprag-retrieve / rerank output), best first.
The prompt is data/prompt.hpp's ([Question] / [Evidence] "[i] title: passage" / [Instruction] /
<answer>); generation is greedy and stops at a line break after the answer began, <|im_end|>
or EOS. The answer line is
split into text and cited numbers; predicted supporting facts are all sentences of the cited
passages; "insufficient context" (or no answer) gives an empty answer with no supporting facts.

Model:
  --model PATH          GGUF file or Hugging Face folder of a Llama-family model (tokenizer from it)
  --quant nf4|none      quantise block linears to NF4 at load (default nf4) or keep f32
  --device D            cpu|cuda|auto (auto: cuda when a GPU is present; default auto)
  --adapter DIR         PEFT LoRA folder (rank 16, alpha 32, all linear layers)
  --artifacts DIR       artifact store of hoprag-train-generator: loads alias "best" of artifact
                        "adapter" (--artifact-ref REF picks another version or alias)
Input and output:
  --questions FILE      HotpotQA questions (answers and supporting facts used only for metrics)
  --split all|heldout|training  held-out rule: fnv1a64("_id") % 8 == 0 (default all)
  --limit N             only the first N questions (after --split)
  --retrieved FILE      ranked passages, JSON Lines {"_id", "passages": [{"title", "chunk", "score"}]}
  --top N               passages per question from --retrieved (default 10)
  --out PRED.json       prediction file (written durably)
  --generations FILE    also write one JSON line per question (raw text, citations, latency, ...)
Prompt and generation:
  --format chat|plain   ChatML user turn (default) or the bare prompt
  --max-tokens N        prompt + generation budget in tokens; passages are dropped to fit,
                        lowest-ranked non-gold first (default 1024)
  --max-new-tokens N    generated tokens at most (default 32)
  --help                show this text
Output: the last line of stdout is {"questions", "answered", "insufficient", "mean_latency_s",
"prompt_tokens_mean", "dropped_passages", "metrics": {em, f1, sp_f1, joint_f1, ...} (when the
questions have answers), "supported_answer_rate", "citation_precision_rate", "out"}.
Exit status: 0 on success, 1 on bad input (one line on stderr says what and where), 2 on bad usage.
)";

using program::usage_error;

struct options {
    std::string model, quant = "nf4", adapter, artifacts, artifact_ref = "best", questions, retrieved, out, generations;
    std::string split = "all", format = "chat", device = "auto";
    std::size_t top = 10, limit = 0, max_tokens = 1024, max_new_tokens = 32;
};

options parse(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const auto value = [&]() -> std::string {
            if (i + 1 >= argc) throw usage_error(a + " needs a value");
            return argv[++i];
        };
        if (a == "--help" || a == "-h") throw usage_error("");
        if (a == "--model") o.model = value();
        else if (a == "--quant") o.quant = value();
        else if (a == "--device") o.device = value();
        else if (a == "--adapter") o.adapter = value();
        else if (a == "--artifacts") o.artifacts = value();
        else if (a == "--artifact-ref") o.artifact_ref = value();
        else if (a == "--questions") o.questions = value();
        else if (a == "--split") o.split = value();
        else if (a == "--limit") o.limit = program::size_flag(a, value());
        else if (a == "--retrieved") o.retrieved = value();
        else if (a == "--top") o.top = program::size_flag(a, value());
        else if (a == "--out") o.out = value();
        else if (a == "--generations") o.generations = value();
        else if (a == "--format") o.format = value();
        else if (a == "--max-tokens") o.max_tokens = program::size_flag(a, value());
        else if (a == "--max-new-tokens") o.max_new_tokens = program::size_flag(a, value());
        else throw usage_error("unknown option " + a);
    }
    if (o.model.empty()) throw usage_error("--model PATH is required");
    if (o.questions.empty()) throw usage_error("--questions FILE is required");
    if (o.out.empty()) throw usage_error("--out PRED.json is required");
    if (o.quant != "nf4" && o.quant != "none") throw usage_error("--quant must be nf4 or none, got \"" + o.quant + "\"");
    if (o.format != "chat" && o.format != "plain") throw usage_error("--format must be chat or plain, got \"" + o.format + "\"");
    if (o.split != "all" && o.split != "heldout" && o.split != "training")
        throw usage_error("--split must be all, heldout or training, got \"" + o.split + "\"");
    if (!o.adapter.empty() && !o.artifacts.empty()) throw usage_error("give --adapter or --artifacts, not both");
    return o;
}

// Ranked passages; gold is not told to the fitter (it drops by rank only); sentence counts come
// from the pooled paragraphs of the question file.
hoprag::components::question_contexts ranked_paragraphs(const hoprag::data::hotpot_record& r, const std::vector<hoprag::data::retrieved_passage>& list,
                           const std::unordered_map<std::string, std::int64_t>& sentences) {
    hoprag::components::question_contexts c;
    for (std::size_t i = 0; i < list.size(); ++i) {
        bool gold = false;
        for (const auto& f : r.supporting_facts) gold = gold || f.title == list[i].title;
        const auto it = sentences.find(list[i].title);
        c.prompt.push_back({list[i].title, list[i].text, i, false});
        c.shown.push_back({list[i].title, it == sentences.end() ? 0 : it->second, gold});
    }
    return c;
}

template <class Quant, class Adapter, class Backend>
nlohmann::ordered_json run(const options& o) {
    using gen_t = hoprag::components::generator<Quant, Adapter, Backend>;
    namespace fs = std::filesystem;
    auto records = hoprag::data::load_all(o.questions);
    const auto part = o.split == "heldout" ? hoprag::data::split_part::heldout
                      : o.split == "training" ? hoprag::data::split_part::training
                                              : hoprag::data::split_part::all;
    std::unordered_map<std::string, std::int64_t> sentences;  // title -> sentence count, pooled over the file
    for (const auto& r : records)
        for (const auto& p : r.context) sentences.emplace(p.title, static_cast<std::int64_t>(p.sentences.size()));
    records = hoprag::data::select_split(std::move(records), part);
    if (o.limit && records.size() > o.limit) records.resize(o.limit);
    std::cerr << "hoprag-answer: " << records.size() << " questions (split " << o.split << ")\n";
    std::unordered_map<std::string, std::vector<hoprag::data::retrieved_passage>> retrieved;
    if (!o.retrieved.empty()) retrieved = hoprag::data::read_retrieved_passages(o.retrieved, o.top, true);

    typename Backend::context ctx;
    const auto t_load = std::chrono::steady_clock::now();
    const fs::path model(o.model);
    gen_t g = fs::is_directory(model) ? gen_t::from_hf(ctx, model) : gen_t::from_gguf(ctx, model);
    const auto tok = hoprag::tokenizers::load_tokenizer(model);
    if constexpr (Adapter::enabled) {
        if (!o.adapter.empty()) g.load_adapter(o.adapter);
        else {
            const hoprag::train::artifact_store store(o.artifacts);
            const auto dest = fs::path(o.out).parent_path() / (fs::path(o.out).filename().string() + ".adapter");
            store.fetch("adapter", o.artifact_ref, dest);
            g.load_adapter(dest);
            std::cerr << "hoprag-answer: adapter " << store.resolve("adapter", o.artifact_ref).tag() << " from " << o.artifacts << "\n";
        }
    }
    std::cerr << "hoprag-answer: model loaded in "
              << std::chrono::duration<double>(std::chrono::steady_clock::now() - t_load).count() << " s\n";

    hoprag::components::answer_options ao;
    ao.prompt.format = o.format == "plain" ? hoprag::data::prompt_format::plain : hoprag::data::prompt_format::chat;
    ao.prompt.max_tokens = o.max_tokens;
    ao.max_new_tokens = static_cast<std::int64_t>(o.max_new_tokens);

    hoprag::eval::hotpot_predictions pred;
    std::vector<hoprag::eval::generated_answer> generated;
    std::string lines;
    std::size_t answered = 0, insufficient = 0, dropped = 0, prompt_tokens = 0, missing_retrieval = 0;
    double total_s = 0;
    for (std::size_t qi = 0; qi < records.size(); ++qi) {
        const auto& r = records[qi];
        hoprag::components::question_contexts c;
        if (o.retrieved.empty()) c = hoprag::components::own_paragraph_contexts(r);
        else if (const auto it = retrieved.find(r.id); it != retrieved.end()) c = ranked_paragraphs(r, it->second, sentences);
        else ++missing_retrieval;
        const auto t0 = std::chrono::steady_clock::now();
        const auto res = hoprag::components::answer_question(g, tok, r.question, c, ao);
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        const auto& p = res.prediction;
        pred.answer[r.id] = p.answer;
        pred.sp[r.id] = p.sp;
        hoprag::eval::generated_answer ga{r.id, res.line, {}};
        for (const auto& s : res.shown) ga.holds_support.push_back(s.holds_support);
        generated.push_back(std::move(ga));
        answered += !p.insufficient, insufficient += p.insufficient;
        dropped += res.dropped, prompt_tokens += res.prompt_tokens, total_s += secs;
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.2f", secs);
        std::cerr << "hoprag-answer: [" << qi + 1 << "/" << records.size() << "] " << r.id << " " << buf << " s, "
                  << res.prompt_tokens << " prompt tokens: " << generated.back().text << "\n";
        if (!o.generations.empty()) {
            nlohmann::ordered_json j{{"_id", r.id},           {"raw", res.line},           {"answer", p.answer},
                                     {"citations", p.citations}, {"insufficient", p.insufficient},
                                     {"gold", r.answer},      {"latency_s", secs},    {"prompt_tokens", res.prompt_tokens},
                                     {"generated_tokens", res.generated_tokens},         {"dropped", res.dropped},
                                     {"holds_support", generated.back().holds_support}};
            lines += j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
        }
    }
    hoprag::eval::write_hotpot_predictions(o.out, pred);
    if (!o.generations.empty()) hoprag::io::write_file_durably(o.generations, lines);

    const double n = records.empty() ? 1.0 : double(records.size());
    nlohmann::ordered_json out{{"questions", records.size()},
                               {"answered", answered},
                               {"insufficient", insufficient},
                               {"mean_latency_s", total_s / n},
                               {"prompt_tokens_mean", double(prompt_tokens) / n},
                               {"dropped_passages", dropped},
                               {"format", o.format},
                               {"quant", o.quant},
                               {"context", o.retrieved.empty() ? "own_paragraphs" : "retrieved"}};
    if (missing_retrieval) out["missing_retrieval"] = missing_retrieval;
    bool labelled = !records.empty();
    for (const auto& r : records) labelled = labelled && !r.answer.empty();
    if (labelled) {
        const auto rep = hoprag::eval::evaluate_hotpot(records, pred);
        const auto& s = rep.overall;
        out["metrics"] = {{"em", s.answer.em}, {"f1", s.answer.f1}, {"sp_em", s.sp.em}, {"sp_f1", s.sp.f1},
                          {"joint_em", s.joint.em}, {"joint_f1", s.joint.f1}};
        const auto sar = hoprag::eval::supported_answer_rates(records, generated);
        out["supported_answer_rate"] = sar.supported_answer_rate;
        out["citation_precision_rate"] = sar.citation_precision_rate;
    }
    out["out"] = o.out;
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    return program::guarded_main("hoprag-answer", usage, [&] {
        const options o = parse(argc, argv);
        using lora = hoprag::adapters::lora<16, 32>;
        namespace q = hoprag::quant;
        const bool adapted = !o.adapter.empty() || !o.artifacts.empty();
        return program::run_on_device("hoprag-answer", o.device, [&]<class B>() {
            nlohmann::ordered_json out;
            if (o.quant == "nf4") out = adapted ? run<q::nf4, lora, B>(o) : run<q::nf4, hoprag::adapters::none, B>(o);
            else out = adapted ? run<q::none, lora, B>(o) : run<q::none, hoprag::adapters::none, B>(o);
            std::cout << out.dump() << std::endl;
            return 0;
        });
    });
}
