// hoprag-pipeline: the whole multi-hop QA chain on HotpotQA questions, composed from the library's
// components in one program: retrieve (components::retriever with the BERT encoder over a saved
// flat/IVF/HNSW index, or over each question's own paragraphs when no index is given) -> rerank
// (components::reranker cross-encoder, optionally fused with the retriever score, keep the best
// --keep; --no-rerank keeps retrieval order) ->
// generate with citations (components::answer_question on generator<nf4|none, lora|none>, base
// plus an optional PEFT adapter or the `best` adapter of a hoprag-train-generator artifact store)
// -> official metrics (eval/hotpot_metrics.hpp) and the supported-answer rate. The stages run one
// after another over all questions (each model is loaded once and freed before the next), and
// every question is timed per stage; the latencies go to stderr and into the JSON summary (the last
// stdout line). Backend: --device, resolved once at the edge (every stage is templated on it);
// only the CPU backend (profile cpu, fp32 compute) has a path yet.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "hoprag/components/answerer.hpp"
#include "hoprag/components/generator.hpp"
#include "hoprag/components/open_index.hpp"
#include "hoprag/components/reranker.hpp"
#include "hoprag/components/retriever.hpp"
#include "hoprag/data/heldout_split.hpp"
#include "hoprag/data/hotpotqa.hpp"
#include "hoprag/eval/citations.hpp"
#include "hoprag/eval/hotpot_metrics.hpp"
#include "hoprag/eval/hotpot_predictions_io.hpp"
#include "hoprag/tokenizers/load_tokenizer.hpp"
#include "hoprag/train/artifact_store.hpp"
#include "retrieval_cli.hpp"

namespace fs = std::filesystem;
using namespace hoprag;

namespace {

constexpr const char* prog = "hoprag-pipeline";

constexpr const char* usage = R"(usage: hoprag-pipeline --encoder DIR --generator PATH --questions FILE --out PRED.json [options]

Answers HotpotQA questions end to end: retrieve the top --k passages, rerank them with a
cross-encoder and keep the best --keep (or keep retrieval order with --no-rerank), generate a cited
answer, and score the predictions with the official metrics. Writes PRED.json in the official
format; per-question stage latencies on stderr; the last stdout line is one JSON summary.

Questions:
  --questions FILE      HotpotQA questions (answers and supporting facts used for metrics only)
  --split all|heldout|training  held-out rule: fnv1a64("_id") % 8 == 0  [all]
  --limit N             only the first N questions (after --split)
Retrieval:
  --encoder DIR         BERT encoder folder (all-MiniLM-L6-v2); --pooling, --storage, --max-length,
                        --batch-tokens, --no-normalize, --query-prefix as for hoprag-retrieve
  --index INDEX         index written by hoprag-index (flat, ivf or hnsw: read from the file);
                        without it each question's own context paragraphs are encoded and searched
  --corpus FILE         HotpotQA file of the index's corpus (repeat, same order as for hoprag-index)
  --k N                 passages retrieved per question  [200]
Reranking:
  --reranker DIR        cross-encoder folder (hoprag-train-reranker output)
  --no-rerank           keep retrieval order (no cross-encoder)
  --fusion              reranker score = logit + w * retriever score, w from DIR/fusion.json (a
                        model trained with --fusion-weight); without it the logit alone
  --rerank-top N        retrieved passages the cross-encoder scores  [--k]
  --rerank-max-length N tokens per (question, passage) pair  [256]
  --keep N              passages handed to the generator, 1..64  [10]
Generation:
  --generator PATH      GGUF file or Hugging Face folder of a Llama-family model (tokenizer from it)
  --quant nf4|none      NF4 block linears (default) or f32
  --adapter DIR         PEFT LoRA folder (rank 16, alpha 32, all linear layers)
  --artifacts DIR       hoprag-train-generator artifact store: alias --artifact-ref [best] of "adapter"
  --format chat|plain   prompt format  [chat]
  --max-tokens N        prompt + generation budget; lowest-ranked passages dropped to fit  [1024]
  --max-new-tokens N    generated tokens at most  [32]
Other:
  --out PRED.json       official prediction file (written durably)
  --profile cpu|auto    hardware profile; this build runs the CPU backend (fp32)  [auto]
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
    std::string index, questions, split = "all", reranker, generator, quant = "nf4", adapter, artifacts, artifact_ref = "best";
    std::string format = "chat", out, profile = "auto";
    std::vector<std::string> corpus;
    std::size_t limit = 0, k = 200, rerank_top = 0, rerank_max_length = 256, keep = 10, max_tokens = 1024, max_new_tokens = 32;
    bool no_rerank = false, fusion = false;
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
        else if (a != "--limit" && o.enc.parse(argc, argv, i)) continue;
        else if (a == "--index") o.index = value();
        else if (a == "--corpus") o.corpus.push_back(value());
        else if (a == "--questions") o.questions = value();
        else if (a == "--split") o.split = value();
        else if (a == "--limit") o.limit = program::size_flag(a, value());
        else if (a == "--k") o.k = program::size_flag(a, value());
        else if (a == "--reranker") o.reranker = value();
        else if (a == "--no-rerank") o.no_rerank = true;
        else if (a == "--fusion") o.fusion = true;
        else if (a == "--rerank-top") o.rerank_top = program::size_flag(a, value());
        else if (a == "--rerank-max-length") o.rerank_max_length = program::size_flag(a, value());
        else if (a == "--keep") o.keep = program::size_flag(a, value());
        else if (a == "--generator") o.generator = value();
        else if (a == "--quant") o.quant = value();
        else if (a == "--adapter") o.adapter = value();
        else if (a == "--artifacts") o.artifacts = value();
        else if (a == "--artifact-ref") o.artifact_ref = value();
        else if (a == "--format") o.format = value();
        else if (a == "--max-tokens") o.max_tokens = program::size_flag(a, value());
        else if (a == "--max-new-tokens") o.max_new_tokens = program::size_flag(a, value());
        else if (a == "--out") o.out = value();
        else if (a == "--profile") o.profile = value();
        else throw usage_error("unknown option " + a);
    }
    if (o.enc.model.empty()) throw usage_error("--encoder DIR is required");
    o.enc.check();
    if (o.generator.empty()) throw usage_error("--generator PATH is required");
    if (o.questions.empty()) throw usage_error("--questions FILE is required");
    if (o.out.empty()) throw usage_error("--out PRED.json is required");
    if (!o.index.empty() && o.corpus.empty()) throw usage_error("--index needs the --corpus files it was built from");
    if (o.index.empty() && !o.corpus.empty()) throw usage_error("--corpus without --index: give the index built from it");
    if (o.no_rerank == !o.reranker.empty()) throw usage_error("give exactly one of --reranker DIR and --no-rerank");
    if (o.fusion && o.no_rerank) throw usage_error("--fusion needs --reranker DIR");
    if (o.keep > 64) throw usage_error("--keep must be at most 64");
    if (o.rerank_top == 0) o.rerank_top = o.k;
    if (o.quant != "nf4" && o.quant != "none") throw usage_error("--quant must be nf4 or none, got \"" + o.quant + "\"");
    if (o.format != "chat" && o.format != "plain") throw usage_error("--format must be chat or plain, got \"" + o.format + "\"");
    if (o.split != "all" && o.split != "heldout" && o.split != "training")
        throw usage_error("--split must be all, heldout or training, got \"" + o.split + "\"");
    if (o.profile != "auto" && o.profile != "cpu")
        throw usage_error("--profile " + o.profile + ": this build of hoprag-pipeline runs the CPU backend only; use cpu or auto");
    if (!o.adapter.empty() && !o.artifacts.empty()) throw usage_error("give --adapter or --artifacts, not both");
    return o;
}

double since(std::chrono::steady_clock::time_point t0) { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); }

using passage_list = std::vector<std::pair<std::string, std::string>>;  // (title, text), best first

/// Stage 1: the top o.k passages of every question, and the seconds each question took.
template <class Backend>
std::vector<passage_list> retrieve_all(const options& o, const std::vector<data::hotpot_record>& records, std::vector<std::vector<float>>& scores,
                                       std::vector<double>& secs) {
    std::vector<passage_list> out(records.size());
    scores.assign(records.size(), {});
    secs.assign(records.size(), 0.0);
    std::vector<data::paragraph_passage> corpus;
    if (!o.index.empty()) corpus = cli::load_corpus(o.corpus, o.enc.limit, prog);
    return cli::dispatch_types<Backend>(o.enc, [&]<class B, class Pooling, class Storage>() {
        namespace bert = models::bert;
        namespace comp = components;
        using context = typename B::context;
        context ctx(0, {});
        bert::encoder<context, Pooling> enc(ctx, o.enc.model, o.enc.options);
        using flat = comp::flat_index<context, Storage>;
        const auto ask = [&](auto& index, const std::vector<data::paragraph_passage>& passages, std::size_t qi) {
            comp::retriever<decltype(enc), std::remove_reference_t<decltype(index)>> r(enc, index, ctx);
            const std::string q = records[qi].question;
            const auto hits = r.retrieve(std::span(&q, 1), static_cast<std::int64_t>(o.k));
            for (const auto& h : hits.at(0)) {
                const auto& p = passages.at(static_cast<std::size_t>(h.passage));
                out[qi].emplace_back(p.title, p.text);
                scores[qi].push_back(h.score);
            }
        };
        if (o.index.empty()) {  // each question's own paragraphs, encoded per question (counted as retrieval time)
            for (std::size_t qi = 0; qi < records.size(); ++qi) {
                const auto t0 = std::chrono::steady_clock::now();
                const auto own = data::pooled_paragraphs(std::span(&records[qi], 1));
                flat index(ctx, comp::retriever<decltype(enc), flat>::header_for(enc, own));
                comp::retriever<decltype(enc), flat>(enc, index, ctx).add_passages(own);
                ask(index, own, qi);
                secs[qi] = since(t0);
            }
            return out;
        }
        const auto header = comp::retriever<decltype(enc), flat>::header_for(enc, corpus);
        const auto all = [&](auto& index) {
            if (index.size() != static_cast<std::int64_t>(corpus.size()))
                throw format_error(o.index + ": holds " + std::to_string(index.size()) + " vectors, the corpus has " +
                                   std::to_string(corpus.size()) + " passages");
            for (std::size_t qi = 0; qi < records.size(); ++qi) {
                const auto t0 = std::chrono::steady_clock::now();
                ask(index, corpus, qi);
                secs[qi] = since(t0);
            }
        };
        comp::with_index_file<Storage>(ctx, o.index, header, [&](auto& index, const std::string&) { all(index); });
        return out;
    });
}

/// Stage 2: the best o.keep passages of each list (cross-encoder order, or retrieval order with --no-rerank).
template <class Backend>
void rerank_all(const options& o, const std::vector<data::hotpot_record>& records, std::vector<passage_list>& lists,
                const std::vector<std::vector<float>>& scores, std::vector<double>& secs) {
    secs.assign(records.size(), 0.0);
    if (o.no_rerank) {
        for (auto& l : lists)
            if (l.size() > o.keep) l.resize(o.keep);
        return;
    }
    namespace comp = components;
    typename Backend::context ctx;
    comp::reranker<comp::softmax_loss, Backend> rr(ctx, o.reranker,
                                                        {.max_length = static_cast<std::int64_t>(o.rerank_max_length), .train = false});
    if (o.fusion) rr.set_retriever_weight(comp::load_fusion(o.reranker));
    for (std::size_t qi = 0; qi < records.size(); ++qi) {
        const auto t0 = std::chrono::steady_clock::now();
        std::vector<comp::scored_passage> ps;
        for (std::size_t i = 0; i < lists[qi].size(); ++i)
            ps.push_back({lists[qi][i].first, lists[qi][i].second, scores[qi][i]});
        const auto ranked = rr.rerank(records[qi].question, ps, o.rerank_top);
        passage_list kept;
        for (std::size_t i = 0; i < std::min(o.keep, ranked.size()); ++i) kept.emplace_back(ranked[i].title, ranked[i].chunk);
        lists[qi] = std::move(kept);
        secs[qi] = since(t0);
    }
}

struct generated {
    eval::hotpot_predictions pred;
    std::vector<eval::generated_answer> answers;
    std::vector<double> secs;
    std::size_t insufficient = 0, prompt_tokens = 0, dropped = 0;
    std::string adapter;
};

/// Stage 3: a cited answer per question from its kept passages.
template <class Quant, class Adapter, class Backend>
generated generate_all(const options& o, const std::vector<data::hotpot_record>& records, const std::vector<passage_list>& lists,
                       const std::unordered_map<std::string, std::int64_t>& sentences) {
    using gen_t = components::generator<Quant, Adapter, Backend>;
    typename Backend::context ctx;
    const fs::path model(o.generator);
    if (!fs::exists(model)) throw io_error(o.generator + ": no such file or folder (--generator wants a GGUF file or a model folder)");
    gen_t g = fs::is_directory(model) ? gen_t::from_hf(ctx, model) : gen_t::from_gguf(ctx, model);
    const auto tok = tokenizers::load_tokenizer(model);
    generated r;
    if constexpr (Adapter::enabled) {
        if (!o.adapter.empty()) {
            g.load_adapter(o.adapter);
            r.adapter = o.adapter;
        } else {
            const train::artifact_store store(o.artifacts);
            const auto dest = fs::path(o.out).parent_path() / (fs::path(o.out).filename().string() + ".adapter");
            store.fetch("adapter", o.artifact_ref, dest);
            g.load_adapter(dest);
            r.adapter = o.artifacts + " adapter:" + store.resolve("adapter", o.artifact_ref).tag();
        }
    }
    components::answer_options ao;
    ao.prompt.format = o.format == "plain" ? data::prompt_format::plain : data::prompt_format::chat;
    ao.prompt.max_tokens = o.max_tokens;
    ao.max_new_tokens = static_cast<std::int64_t>(o.max_new_tokens);
    r.secs.assign(records.size(), 0.0);
    for (std::size_t qi = 0; qi < records.size(); ++qi) {
        const auto& rec = records[qi];
        const auto t0 = std::chrono::steady_clock::now();
        const auto c = components::ranked_contexts(rec, lists[qi], sentences);
        const auto res = components::answer_question(g, tok, rec.question, c, ao);
        r.secs[qi] = since(t0);
        r.pred.answer[rec.id] = res.prediction.answer;
        r.pred.sp[rec.id] = res.prediction.sp;
        eval::generated_answer ga{rec.id, res.line, {}};
        for (const auto& s : res.shown) ga.holds_support.push_back(s.holds_support);
        r.answers.push_back(std::move(ga));
        r.insufficient += res.prediction.insufficient, r.prompt_tokens += res.prompt_tokens, r.dropped += res.dropped;
    }
    return r;
}

template <class Backend>
nlohmann::ordered_json run(const options& o) {
    const auto t_start = std::chrono::steady_clock::now();
    auto records = data::load_all(o.questions);
    std::unordered_map<std::string, std::int64_t> sentences;  // title -> sentence count, pooled over the files
    for (const auto& r : records)
        for (const auto& p : r.context) sentences.emplace(p.title, static_cast<std::int64_t>(p.sentences.size()));
    for (const auto& f : o.corpus)
        for (const auto& r : data::load_all(f))
            for (const auto& p : r.context) sentences.emplace(p.title, static_cast<std::int64_t>(p.sentences.size()));
    const auto part = o.split == "heldout" ? data::split_part::heldout : o.split == "training" ? data::split_part::training : data::split_part::all;
    records = data::select_split(std::move(records), part);
    if (o.limit && records.size() > o.limit) records.resize(o.limit);
    std::cerr << prog << ": " << records.size() << " questions (split " << o.split << "), profile cpu (compile-time backend: cpu, fp32)\n";

    std::vector<double> t_retrieve, t_rerank;
    std::vector<std::vector<float>> retrieval_scores;
    auto lists = retrieve_all<Backend>(o, records, retrieval_scores, t_retrieve);
    std::cerr << prog << ": retrieval done (" << (o.index.empty() ? "own paragraphs" : o.index) << ")\n";
    rerank_all<Backend>(o, records, lists, retrieval_scores, t_rerank);
    std::cerr << prog << ": " << (o.no_rerank ? "no reranking (retrieval order)" : "reranked with " + o.reranker) << ", keeping " << o.keep << "\n";
    const bool adapted = !o.adapter.empty() || !o.artifacts.empty();
    using lora = adapters::lora<16, 32>;
    const auto gen = o.quant == "nf4" ? (adapted ? generate_all<quant::nf4, lora, Backend>(o, records, lists, sentences)
                                                 : generate_all<quant::nf4, adapters::none, Backend>(o, records, lists, sentences))
                                      : (adapted ? generate_all<quant::none, lora, Backend>(o, records, lists, sentences)
                                                 : generate_all<quant::none, adapters::none, Backend>(o, records, lists, sentences));
    eval::write_hotpot_predictions(o.out, gen.pred);

    nlohmann::ordered_json per_q = nlohmann::ordered_json::array();
    double sum_r = 0, sum_k = 0, sum_g = 0;
    std::size_t both_kept = 0;
    for (std::size_t qi = 0; qi < records.size(); ++qi) {
        const auto& rec = records[qi];
        std::set<std::string> gold;
        for (const auto& f : rec.supporting_facts) gold.insert(f.title);
        std::size_t found = 0;
        for (const auto& [title, _] : lists[qi]) found += gold.count(title);
        both_kept += !gold.empty() && found >= gold.size();
        char buf[200];
        std::snprintf(buf, sizeof buf, "retrieve %.3f s, rerank %.3f s, generate %.3f s", t_retrieve[qi], t_rerank[qi], gen.secs[qi]);
        std::cerr << prog << ": [" << qi + 1 << "/" << records.size() << "] " << rec.id << " " << buf << ": " << gen.answers[qi].text << "\n";
        per_q.push_back({{"_id", rec.id}, {"retrieve_s", t_retrieve[qi]}, {"rerank_s", t_rerank[qi]}, {"generate_s", gen.secs[qi]}});
        sum_r += t_retrieve[qi], sum_k += t_rerank[qi], sum_g += gen.secs[qi];
    }
    const double n = records.empty() ? 1.0 : double(records.size());
    nlohmann::ordered_json out{{"questions", records.size()},
                               {"profile", "cpu"},
                               {"retrieval", o.index.empty() ? "own_paragraphs" : o.index},
                               {"k", o.k},
                               {"rerank", o.no_rerank ? "none" : o.reranker + (o.fusion ? " (fusion)" : "")},
                               {"keep", o.keep},
                               {"generator", o.generator},
                               {"quant", o.quant},
                               {"adapter", gen.adapter},
                               {"insufficient", gen.insufficient},
                               {"prompt_tokens_mean", double(gen.prompt_tokens) / n},
                               {"dropped_passages", gen.dropped},
                               {"both_gold_kept_rate", double(both_kept) / n}};
    bool labelled = !records.empty();
    for (const auto& r : records) labelled = labelled && !r.answer.empty();
    if (labelled) {
        const auto s = eval::evaluate_hotpot(records, gen.pred).overall;
        out["metrics"] = {{"em", s.answer.em}, {"f1", s.answer.f1}, {"sp_em", s.sp.em}, {"sp_f1", s.sp.f1}, {"joint_em", s.joint.em}, {"joint_f1", s.joint.f1}};
        const auto sar = eval::supported_answer_rates(records, gen.answers);
        out["supported_answer_rate"] = sar.supported_answer_rate;
        out["citation_precision_rate"] = sar.citation_precision_rate;
    }
    out["latency_s"] = {{"retrieve", sum_r / n}, {"rerank", sum_k / n}, {"generate", sum_g / n}, {"total", (sum_r + sum_k + sum_g) / n}};
    out["wall_s"] = since(t_start);
    out["per_question"] = std::move(per_q);
    out["out"] = o.out;
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    return program::guarded_main(prog, usage, [&] {
        const options o = parse(argc, argv);
        return program::run_on_device(prog, o.enc.device, [&]<class Backend>() {
            std::cout << run<Backend>(o).dump() << std::endl;
            return 0;
        });
    });
}
