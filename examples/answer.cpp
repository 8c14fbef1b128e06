// hoprag-answer: answers HotpotQA questions with the generator (base model, optionally with a LoRA
// adapter), from the question's own paragraphs or from ranked passages, and writes the official
// prediction file for hoprag-evaluate. Per-question latency goes to stderr; the last line of stdout
// is one JSON summary object.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hoprag/components/answer_tally.hpp"
#include "hoprag/data/paragraph_passages.hpp"
#include "hoprag/data/ranked_passage_file.hpp"
#include "hoprag/eval/hotpot_predictions_io.hpp"
#include "hoprag/io/durable_file.hpp"
#include "device_flag.hpp"
#include "generator_cli.hpp"

namespace {

using namespace hoprag;
constexpr const char* prog = "hoprag-answer";

constexpr const char* usage = R"(usage: hoprag-answer --model PATH --questions FILE --out PRED.json [options]

Answers the questions of FILE (HotpotQA, JSON array or JSON Lines) with the generator and writes
PRED.json in the official format {"answer": {id: text}, "sp": {id: [[title, sent_id], ...]}}.
Contexts: by default each question's own context paragraphs (the distractor setting: gold forced
in, plus distractors) in file order; with --retrieved, the first --top passages of its line in a
ranked passage file (hoprag-retrieve / rerank output), best first.
The prompt is data/prompt.hpp's ([Question] / [Evidence] "[i] title: passage" / [Instruction] /
<answer>); generation is greedy and stops at a line break after the answer began, the chat
template's end of turn (<|im_end|>, </s>, <|eot_id|>) or EOS. The answer line is
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
  --questions FILE      HotpotQA questions (answers and supporting facts used only for metrics; the
                        test format too) or, with --retrieved, plain text with one question per line
  --split all|heldout|training  held-out rule: fnv1a64("_id") % 8 == 0 (default all)
  --limit N             only the first N questions (after --split)
  --retrieved FILE      ranked passages, JSON Lines {"_id", "passages": [{"title", "chunk", "score"}]}
  --top N               passages per question from --retrieved (default 10)
  --out PRED.json       prediction file (written durably)
  --generations FILE    also write one JSON line per question (question, titles shown, raw text,
                        answer, citations, latency, ...)
Prompt and generation:
  --format F            chat (the model's template: ChatML, Mistral [INST] or Llama-3, read from
                        its tokenizer), chatml|mistral|llama3 (named), or plain  [chat]
  --max-tokens N        prompt + generation budget in tokens; passages are dropped to fit,
                        lowest-ranked non-gold first; answer at the budget the adapter was
                        trained at (default 640, hoprag-train-generator's)
  --max-new-tokens N    generated tokens at most (default 32)
  --profile P           auto|cpu|t4|a100|a100-80|h100: GEMM type with --compute auto (cpu f32,
                        t4 f16, a100/h100 bf16); auto: the GPU present  [auto]
  --compute T           f32|bf16|f16|auto: the block linears multiply in T  [auto]
  --help                show this text
Output: the last line of stdout is {"questions", "answered", "insufficient", "mean_latency_s",
"prompt_tokens_mean", "dropped_passages", "metrics": {em, f1, sp_f1, joint_f1, ...} (when the
questions have answers), "supported_answer_rate", "citation_precision_rate", "out"}.
Exit status: 0 on success, 1 on bad input (one line on stderr says what and where), 2 on bad usage.
)";

using program::usage_error;

struct options {
    cli::generator_flags gen;
    cli::question_flags questions;
    std::string retrieved, out, generations, device = "auto";
    std::size_t top = 10;
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
        if (o.gen.parse(argc, argv, i, "--model") || o.questions.parse(argc, argv, i)) continue;
        if (a == "--device") o.device = value();
        else if (a == "--retrieved") o.retrieved = value();
        else if (a == "--top") o.top = program::size_flag(a, value());
        else if (a == "--out") o.out = value();
        else if (a == "--generations") o.generations = value();
        else throw usage_error("unknown option " + a);
    }
    o.gen.check("--model");
    o.questions.check();
    if (o.out.empty()) throw usage_error("--out PRED.json is required");
    return o;
}

template <class Backend>
nlohmann::ordered_json run(const options& o) {
    auto all = data::load_questions(o.questions.file, o.retrieved.empty());  // test format and plain text too
    const auto sentences = data::sentence_counts(all);  // pooled over the whole file
    const auto records = o.questions.select(std::move(all), prog);
    data::ranked_passage_file retrieved;
    if (!o.retrieved.empty()) retrieved = data::read_ranked_passages(o.retrieved, o.top);
    const auto t_load = std::chrono::steady_clock::now();
    return cli::with_generator<Backend>(o.gen, o.out, [&](const auto& g, const auto& tok, const std::string& adapter) {
        if (!adapter.empty()) std::cerr << prog << ": adapter " << adapter << "\n";
        std::cerr << prog << ": model loaded in " << std::chrono::duration<double>(std::chrono::steady_clock::now() - t_load).count() << " s\n";
        const auto ao = o.gen.answer_options();
        components::answer_tally tally;
        std::string lines;
        std::size_t missing_retrieval = 0;
        double total_s = 0;
        for (std::size_t qi = 0; qi < records.size(); ++qi) {
            const auto& r = records[qi];
            components::question_contexts c;
            if (o.retrieved.empty()) c = components::own_paragraph_contexts(r);
            else if (const auto it = retrieved.by_id.find(r.id); it != retrieved.by_id.end()) c = components::ranked_contexts(r, it->second, sentences);
            else ++missing_retrieval;
            const auto t0 = std::chrono::steady_clock::now();
            const auto res = components::answer_question(g, tok, r.question, c, ao);
            const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            tally.add(r.id, res);
            total_s += secs;
            char buf[64];
            std::snprintf(buf, sizeof buf, "%.2f", secs);
            std::cerr << prog << ": [" << qi + 1 << "/" << records.size() << "] " << r.id << " " << buf << " s, " << res.prompt_tokens
                      << " prompt tokens: " << res.line << "\n";
            if (!o.generations.empty()) {
                const auto& p = res.prediction;
                std::vector<std::string> shown;  // titles by passage number - 1
                for (const auto& ps : res.shown) shown.push_back(ps.title);
                nlohmann::ordered_json j{{"_id", r.id}, {"question", r.question}, {"shown", shown}, {"raw", res.line}, {"answer", p.answer}, {"citations", p.citations},
                                         {"insufficient", p.insufficient}, {"gold", r.answer}, {"latency_s", secs},
                                         {"prompt_tokens", res.prompt_tokens}, {"generated_tokens", res.generated_tokens},
                                         {"dropped", res.dropped}, {"holds_support", tally.generated.back().holds_support}};
                lines += j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
            }
        }
        eval::write_hotpot_predictions(o.out, tally.pred);
        if (!o.generations.empty()) io::write_file_durably(o.generations, lines);
        nlohmann::ordered_json out{{"questions", records.size()}};
        out.update(tally.counts());
        out["mean_latency_s"] = total_s / (records.empty() ? 1.0 : double(records.size()));
        out["format"] = o.gen.format, out["quant"] = o.gen.quant, out["context"] = o.retrieved.empty() ? "own_paragraphs" : "retrieved";
        if (missing_retrieval) out["missing_retrieval"] = missing_retrieval;
        out.update(tally.quality(records));
        out["out"] = o.out;
        return out;
    });
}

}  // namespace

int main(int argc, char** argv) {
    return program::guarded_main(prog, usage, [&] {
        const options o = parse(argc, argv);
        return program::run_on_device<true>(prog, o.device, [&]<class Backend>() {
            std::cout << run<Backend>(o).dump() << std::endl;
            return 0;
        });
    });
}
