// hoprag-pipeline: the multi-hop QA chain as one components::pipeline: retrieve (a saved index or
// each question's own paragraphs) -> rerank (cross-encoder, optionally fused; or retrieval order)
// -> cited answer (generator<nf4|none, lora|none>) -> official metrics, each stage timed per
// question. The backend comes from --device, resolved once at the edge; this program picks types.
#include <chrono>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hoprag/components/pipeline.hpp"
#include "hoprag/components/reranker.hpp"
#include "hoprag/eval/hotpot_predictions_io.hpp"
#include "generator_cli.hpp"
#include "retrieval_cli.hpp"

namespace {

using namespace hoprag;
constexpr const char* prog = "hoprag-pipeline";

constexpr const char* usage = R"(usage: hoprag-pipeline --encoder DIR --generator PATH --questions FILE --out PRED.json [options]

Answers HotpotQA questions end to end: retrieve the top --k passages, rerank them with a
cross-encoder and keep the best --keep (or keep retrieval order with --no-rerank), generate a cited
answer, and score the predictions with the official metrics. Writes PRED.json in the official
format; per-question stage latencies on stderr; the last stdout line is one JSON summary.

Questions:
  --questions FILE      HotpotQA questions (answers and supporting facts used for metrics only; the
                        test format and {"_id", "question"} lines too) or, with --index, plain text
                        with one question per line ("_id" line-N)
  --split all|heldout|training  held-out rule: fnv1a64("_id") % 8 == 0  [all]
  --limit N             only the first N questions (after --split)
Retrieval:
  --encoder DIR         BERT encoder folder (all-MiniLM-L6-v2); --pooling, --storage, --max-length,
                        --batch-tokens, --no-normalize, --query-prefix as for hoprag-retrieve
  --index INDEX         index written by hoprag-index (flat, ivf or hnsw: read from the file);
                        without it each question's own context paragraphs are encoded and searched
  --corpus FILE         HotpotQA file of the index's corpus (repeat, same order as for hoprag-index)
  --k N                 passages retrieved per question  [200]
  --hops 1|2            2: a second hop from each of the first --seeds passages (needs --index)  [1]
  --seeds N             hop-1 passages that start a second-hop query  [5]
  --bm25-weight W       hybrid first stage: cosine + W * BM25 / best BM25 of the question
                        (components/hybrid.hpp; needs --index)  [0: dense]
  --hybrid              same as --bm25-weight 0.6
Reranking:
  --reranker DIR        cross-encoder folder (hoprag-train-reranker output)
  --no-rerank           keep retrieval order (no cross-encoder)
  --fusion              reranker score = logit + w * retriever score, w = the model's retriever_weight (a
                        model trained with --fusion-weight); without it the logit alone
  --rerank-top N        retrieved passages the cross-encoder scores  [--k]
  --rerank-max-length N tokens per (question, passage) pair  [256]
  --keep N              passages handed to the generator, 1..64  [10]
Generation:
  --generator PATH      GGUF file or Hugging Face folder of a Llama-family model (tokenizer from it)
  --quant nf4|none      NF4 block linears (default) or f32
  --adapter DIR         PEFT LoRA folder (rank 16, alpha 32, all linear layers)
  --artifacts DIR       hoprag-train-generator artifact store: alias --artifact-ref [best] of "adapter"
  --format F            chat (the tokenizer's template)|chatml|mistral|llama3|plain  [chat]
  --max-tokens N        prompt + generation budget; lowest-ranked passages dropped to fit; answer at
                        the budget the adapter was trained at  [640]
  --max-new-tokens N    generated tokens at most  [32]
Other:
  --out PRED.json       official prediction file (written durably)
  --profile P           auto|cpu|t4|a100|a100-80|h100: the generator's GEMM type with --compute auto
                        (cpu f32, t4 f16, a100/h100 bf16); auto: the GPU present  [auto]
  --compute T           f32|bf16|f16|auto: the generator's block linears multiply in T  [auto]
  --device D            cpu|cuda|auto (auto: cuda when a GPU is present)  [auto]
  --help                show this text
Last stdout line: {"questions", "profile", "rerank", "metrics": {em, f1, sp_em, sp_f1, joint_em,
joint_f1}, "supported_answer_rate", "both_gold_kept_rate", "latency_s": {retrieve, rerank, generate,
total: means}, "per_question": [{"_id", "retrieve_s", "rerank_s", "generate_s"}], "out", ...}.
Exit status: 0 on success, 1 on bad input (one line on stderr), 2 on bad usage.
)";

using usage_error = cli::usage_error;

struct options {
    cli::encoder_flags enc;
    cli::generator_flags gen;
    cli::question_flags questions;
    std::string index, reranker, out;
    std::vector<std::string> corpus;
    components::pipeline_options p;
    bool no_rerank = false, fusion = false, rerank_top_set = false;
    cli::first_stage_flags stage;
    std::int64_t rerank_max_length = 256;
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
        if (a == "--model") throw usage_error("--model is ambiguous here: give --encoder DIR and --generator PATH");
        if (a == "--encoder") o.enc.model = value();
        else if ((a != "--limit" && o.enc.parse(argc, argv, i)) || o.gen.parse(argc, argv, i, "--generator") || o.questions.parse(argc, argv, i) ||
                 o.stage.parse(argc, argv, i))
            continue;
        else if (a == "--index") o.index = value();
        else if (a == "--corpus") o.corpus.push_back(value());
        else if (a == "--k") o.p.k = program::size_flag(a, value());
        else if (a == "--reranker") o.reranker = value();
        else if (a == "--no-rerank") o.no_rerank = true;
        else if (a == "--fusion") o.fusion = true;
        else if (a == "--rerank-top") o.p.rerank_top = program::size_flag(a, value()), o.rerank_top_set = true;
        else if (a == "--rerank-max-length") o.rerank_max_length = program::integer_flag(a, value());
        else if (a == "--keep") o.p.keep = program::size_flag(a, value());
        else if (a == "--out") o.out = value();
        else throw usage_error("unknown option " + a);
    }
    if (o.enc.model.empty()) throw usage_error("--encoder DIR is required");
    o.enc.check();
    o.gen.check("--generator");
    o.questions.check();
    if (o.out.empty()) throw usage_error("--out PRED.json is required");
    if (!o.index.empty() && o.corpus.empty()) throw usage_error("--index needs the --corpus files it was built from");
    if (o.index.empty() && !o.corpus.empty()) throw usage_error("--corpus without --index: give the index built from it");
    if (o.no_rerank == !o.reranker.empty()) throw usage_error("give exactly one of --reranker DIR and --no-rerank");
    if (o.fusion && o.no_rerank) throw usage_error("--fusion needs --reranker DIR");
    if (o.p.keep > 64) throw usage_error("--keep must be at most 64");
    o.stage.check(!o.index.empty());
    if (!o.rerank_top_set) o.p.rerank_top = o.p.k;
    o.p.answer = o.gen.answer_options();
    return o;
}

/// Answers every question with `p`, prints per-question lines, writes PRED.json; the summary.
template <class Pipeline>
nlohmann::ordered_json answer_all(const options& o, const std::vector<data::hotpot_record>& records, Pipeline& p) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto tally = components::answer_all(p, records, [&](std::size_t i, const components::pipeline_answer& a) {
        std::cerr << prog << ": [" << i + 1 << "/" << records.size() << "] " << records[i].id << " " << a.latency_line() << ": " << a.result.line << "\n";
    });
    eval::write_hotpot_predictions(o.out, tally.answers.pred);
    nlohmann::ordered_json out{{"questions", records.size()}, {"retrieval", o.index.empty() ? "own_paragraphs" : o.index},
                               {"k", o.p.k}, {"hops", o.stage.hops}, {"bm25_weight", o.stage.bm25_weight}, {"rerank", o.no_rerank ? "none" : o.reranker + (o.fusion ? " (fusion)" : "")}, {"keep", o.p.keep},
                               {"generator", o.gen.model}, {"quant", o.gen.quant}};
    out.update(tally.summary(records));
    out["wall_s"] = seconds_since(t0);
    out["out"] = o.out;
    return out;
}

/// Builds the three stages on `Backend` and answers every question.
template <class Backend>
nlohmann::ordered_json run(const options& o) {
    namespace comp = components;
    // unlabelled questions are answered too; with an index they need no context paragraphs
    const auto records = o.questions.select(data::load_questions(o.questions.file, o.index.empty()), prog);
    cli::loaded_corpus corpus;
    if (!o.index.empty()) corpus = cli::load_corpus(o.corpus, o.enc.limit, o.enc.unit, prog);
    return cli::dispatch_types<Backend>(o.enc, [&]<class B, class Pooling, class Storage>() {
        using context = typename B::context;
        context ectx(0, {});
        models::bert::encoder<context, Pooling> enc(ectx, o.enc.model, o.enc.options);
        return comp::with_passage_retriever<Storage>(enc, ectx, o.index, corpus.passages, [&](auto& retriever) {
            return cli::with_generator<B>(o.gen, o.out, [&](const auto& g, const auto& tok, const std::string& adapter) {
                if (!adapter.empty()) std::cerr << prog << ": adapter " << adapter << "\n";
                const auto go = [&](auto& reranker) {
                    comp::pipeline p(retriever, reranker, g, tok, o.p);
                    auto out = answer_all(o, records, p);
                    out["adapter"] = adapter;
                    out["profile"] = std::string(program::device_profile<B>(o.gen.profile).name);
                    out["compute"] = std::string(dtype_name(g.compute_type()));
                    return out;
                };
                if (o.no_rerank) {
                    comp::retrieval_order keep_order;
                    return go(keep_order);
                }
                typename B::context rctx;
                comp::reranker<comp::softmax_loss, B> rr(rctx, o.reranker, {.max_length = o.rerank_max_length, .train = false});
                rr.use_fusion(o.fusion, o.reranker);
                return go(rr);
            });
        }, {.seeds = o.stage.hop_seeds(), .bm25_weight = o.stage.bm25_weight, .lexical = &corpus.corpus});
    });
}

}  // namespace

int main(int argc, char** argv) {
    return program::guarded_main(prog, usage, [&] {
        const options o = parse(argc, argv);
        return program::run_on_device<true>(prog, o.enc.device, [&]<class Backend>() {
            std::cout << run<Backend>(o).dump() << std::endl;
            return 0;
        });
    });
}
