// pipeline<Retriever, Reranker, Generator>: the multi-hop QA chain for one question at a time --
// retrieve the top k passages, rerank the first rerank_top and keep the best `keep`, answer with
// citations -- timing each stage. The three slots are policy types:
//  * Retriever: `retrieve(record, k)` -> passages best first. `corpus_retriever` searches a built
//    index over a fixed passage list; `own_paragraph_retriever` encodes and searches each
//    question's own context paragraphs (the distractor setting; encoding counts as retrieval time).
//  * Reranker: `rerank(question, passages, top)` -> passages best first: components::reranker, or
//    `retrieval_order` (no cross-encoder, the retriever's order kept).
//  * Generator: anything answer_question takes (components::generator), with its tokenizer.
// `with_passage_retriever` opens the first stage from an index file (or own paragraphs);
// `answer_all` runs a question set and tallies it (pipeline_tally). Every stage runs on the
// backend its type was built for; nothing here switches on strings.
#pragma once

#include <chrono>
#include <concepts>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "hoprag/components/answer_tally.hpp"
#include "hoprag/components/answerer.hpp"
#include "hoprag/components/flat_index.hpp"
#include "hoprag/components/hybrid.hpp"
#include "hoprag/components/open_index.hpp"
#include "hoprag/components/retriever.hpp"
#include "hoprag/components/two_hop.hpp"
#include "hoprag/core/clock.hpp"
#include "hoprag/data/hotpotqa_record.hpp"
#include "hoprag/data/passage_unit.hpp"
#include "hoprag/data/passage.hpp"
#include "hoprag/tokenizers/tokenizer.hpp"

namespace hoprag::components {

/// A first stage: the top `k` passages of a question, best first.
template <class R>
concept passage_retriever = requires(R& r, const data::hotpot_record& q, std::size_t k) {
    { r.retrieve(q, k) } -> std::same_as<std::vector<data::passage>>;
};

/// A second stage: the first `top` of `passages` reordered, best first.
template <class R>
concept passage_reranker = requires(R& r, std::string_view q, std::span<const data::passage> ps, std::size_t top) {
    { r.rerank(q, ps, top) } -> std::same_as<std::vector<data::passage>>;
};

/// How the first stage searches a fixed corpus: two hops when `seeds` > 0 (components/two_hop.hpp),
/// hybrid with BM25 over `lexical` when `bm25_weight` > 0 (components/hybrid.hpp).
struct first_stage_options {
    std::size_t seeds = 0;
    float bm25_weight = 0;
    const data::corpus* lexical = nullptr;  ///< the pooled corpus the passages come from (needed for BM25)
};

/// Retrieval over a fixed corpus: `Index` was built from `corpus` in this order; dense or hybrid,
/// in one hop or two (first_stage_options).
template <class Encoder, class Index>
class corpus_retriever {
public:
    corpus_retriever(Encoder& encoder, Index& index, std::span<const data::passage> corpus, const hoprag::context& log,
                     const first_stage_options& o = {})
        : r_(encoder, index, log), corpus_(corpus), seeds_(o.seeds) {
        if (index.size() != static_cast<std::int64_t>(corpus.size()))
            throw format_error("corpus_retriever: the index holds " + std::to_string(index.size()) + " vectors, the corpus has " +
                               std::to_string(corpus.size()) + " passages (build the index from this corpus)");
        if (o.bm25_weight > 0) {
            if (!o.lexical) throw config_error("corpus_retriever: hybrid retrieval needs the pooled corpus for BM25");
            hybrid_.emplace(r_, *o.lexical, corpus.size(), hybrid_options{.bm25_weight = o.bm25_weight});
        }
    }
    corpus_retriever(const corpus_retriever&) = delete;
    corpus_retriever& operator=(const corpus_retriever&) = delete;

    std::vector<data::passage> retrieve(const data::hotpot_record& q, std::size_t k) {
        const auto question = std::span(&q.question, 1);
        const two_hop_options o{.k = static_cast<std::int64_t>(k), .seeds = seeds_};
        return hit_passages((hybrid_ ? retrieve_two_hop(*hybrid_, question, corpus_, o) : retrieve_two_hop(r_, question, corpus_, o)).at(0), corpus_);
    }

private:
    retriever<Encoder, Index> r_;
    std::optional<hybrid_retriever<retriever<Encoder, Index>>> hybrid_;
    std::span<const data::passage> corpus_;
    std::size_t seeds_;
};

/// Retrieval over each question's own context paragraphs, encoded into a fresh exact index of
/// vector storage `Storage` per question.
template <class Encoder, class Context, class Storage>
class own_paragraph_retriever {
public:
    own_paragraph_retriever(Encoder& encoder, Context& ctx) : enc_(&encoder), ctx_(&ctx) {}
    std::vector<data::passage> retrieve(const data::hotpot_record& q, std::size_t k) {
        using index_t = flat_index<Context, Storage>;
        const auto own = data::corpus_passages({q}, data::passage_unit::paragraph);
        index_t index(*ctx_, retriever<Encoder, index_t>::header_for(*enc_, own));
        retriever<Encoder, index_t> r(*enc_, index, *ctx_);
        r.add_passages(own);
        return hit_passages(r.retrieve(std::span(&q.question, 1), static_cast<std::int64_t>(k)).at(0), own);
    }

private:
    Encoder* enc_;
    Context* ctx_;
};

/// Calls f(retriever) with the first stage over `index_path` (a saved flat, IVF or HNSW index of
/// `corpus`, opened with with_index_file; flat vectors stored as `Storage`; searched as `o` says)
/// or, when the path is empty, over each question's own paragraphs; returns what f returns.
template <class Storage, class Encoder, class Context, class F>
decltype(auto) with_passage_retriever(Encoder& encoder, Context& ctx, const std::filesystem::path& index_path,
                                      std::span<const data::passage> corpus, F&& f, const first_stage_options& o = {}) {
    if (index_path.empty()) {
        own_paragraph_retriever<Encoder, Context, Storage> own(encoder, ctx);
        return f(own);
    }
    const auto header = retriever<Encoder, flat_index<Context, Storage>>::header_for(encoder, corpus);
    return with_index_file<Storage>(ctx, index_path, header, [&](auto& index, const std::string&) {
        corpus_retriever<Encoder, std::remove_reference_t<decltype(index)>> r(encoder, index, corpus, ctx, o);
        return f(r);
    });
}

/// No cross-encoder: the retriever's order is kept.
struct retrieval_order {
    std::vector<data::passage> rerank(std::string_view, std::span<const data::passage> ps, std::size_t) const {
        return {ps.begin(), ps.end()};
    }
};

/// How many passages each stage hands on, and the answer settings.
struct pipeline_options {
    std::size_t k = 200;           ///< passages retrieved per question
    std::size_t rerank_top = 200;  ///< retrieved passages the reranker scores
    std::size_t keep = 10;         ///< passages handed to the generator
    answer_options answer;
};

/// One answered question: the answer, the passages the generator was given, stage seconds.
struct pipeline_answer {
    answer_result result;
    std::vector<data::passage> kept;  ///< gold marked
    bool both_gold_kept = false;      ///< every gold title of the question is among `kept`
    double retrieve_s = 0, rerank_s = 0, generate_s = 0;

    /// "retrieve 0.012 s, rerank 0.210 s, generate 1.480 s".
    [[nodiscard]] std::string latency_line() const {
        char buf[160];
        std::snprintf(buf, sizeof buf, "retrieve %.3f s, rerank %.3f s, generate %.3f s", retrieve_s, rerank_s, generate_s);
        return buf;
    }
};

template <class Retriever, class Reranker, class Generator>
class pipeline {
    static_assert(passage_retriever<Retriever>, "pipeline<Retriever, Reranker, Generator>: Retriever must provide "
                                                "retrieve(const data::hotpot_record&, std::size_t k) -> std::vector<data::passage>");
    static_assert(passage_reranker<Reranker>, "pipeline<Retriever, Reranker, Generator>: Reranker must provide "
                                              "rerank(std::string_view, std::span<const data::passage>, std::size_t top) -> "
                                              "std::vector<data::passage>");

public:
    pipeline(Retriever& retriever, Reranker& reranker, const Generator& generator, const tokenizers::tokenizer& tok, pipeline_options o)
        : ret_(&retriever), rr_(&reranker), gen_(&generator), tok_(&tok), o_(std::move(o)) {}

    /// Answers `q` (its answer and supporting facts, when present, only mark gold passages).
    pipeline_answer answer(const data::hotpot_record& q) {
        pipeline_answer a;
        auto t0 = std::chrono::steady_clock::now();
        const auto retrieved = ret_->retrieve(q, o_.k);
        a.retrieve_s = seconds_since(t0);
        t0 = std::chrono::steady_clock::now();
        a.kept = rr_->rerank(q.question, retrieved, o_.rerank_top);
        if (a.kept.size() > o_.keep) a.kept.resize(o_.keep);
        a.rerank_s = seconds_since(t0);
        t0 = std::chrono::steady_clock::now();
        const auto contexts = ranked_contexts(q, a.kept, {});
        a.result = answer_question(*gen_, *tok_, q.question, contexts, o_.answer);
        a.generate_s = seconds_since(t0);
        a.kept = contexts.passages;
        std::set<std::string> kept_gold;
        for (const auto& p : a.kept)
            if (p.gold) kept_gold.insert(p.title);
        a.both_gold_kept = !q.supporting_facts.empty() && kept_gold.size() == data::gold_titles(q).size();
        return a;
    }

private:
    Retriever* ret_;
    Reranker* rr_;
    const Generator* gen_;
    const tokenizers::tokenizer* tok_;
    pipeline_options o_;
};

/// Answered questions of a pipeline run: answer_tally's predictions and counts, the share with
/// every gold paragraph kept, and per-question stage latencies.
struct pipeline_tally {
    answer_tally answers;
    std::size_t labelled = 0, both_gold_kept = 0;  // questions with supporting facts, and those with every gold title kept
    double retrieve_s = 0, rerank_s = 0, generate_s = 0;
    nlohmann::ordered_json per_question = nlohmann::ordered_json::array();

    void add(const data::hotpot_record& q, const pipeline_answer& a) {
        const auto& id = q.id;
        answers.add(id, a.result);
        labelled += !q.supporting_facts.empty();
        both_gold_kept += a.both_gold_kept;
        retrieve_s += a.retrieve_s, rerank_s += a.rerank_s, generate_s += a.generate_s;
        per_question.push_back({{"_id", id}, {"retrieve_s", a.retrieve_s}, {"rerank_s", a.rerank_s}, {"generate_s", a.generate_s}});
    }

    /// answer_tally's counts, "both_gold_kept_rate" (over the questions with supporting facts; absent
    /// without any), its quality over `records`, "latency_s"
    /// (means of retrieve, rerank, generate, total) and "per_question".
    [[nodiscard]] nlohmann::ordered_json summary(const std::vector<data::hotpot_record>& records) const {
        const double n = answers.questions ? double(answers.questions) : 1.0;
        auto out = answers.counts();
        if (labelled) out["both_gold_kept_rate"] = double(both_gold_kept) / double(labelled);
        out.update(answers.quality(records));
        out["latency_s"] = {{"retrieve", retrieve_s / n}, {"rerank", rerank_s / n}, {"generate", generate_s / n},
                            {"total", (retrieve_s + rerank_s + generate_s) / n}};
        out["per_question"] = per_question;
        return out;
    }
};

/// Answers every record of `records` with `p`, calling on_answer(index, answer) after each.
template <class Pipeline, class F>
pipeline_tally answer_all(Pipeline& p, std::span<const data::hotpot_record> records, F&& on_answer) {
    pipeline_tally tally;
    for (std::size_t i = 0; i < records.size(); ++i) {
        const auto a = p.answer(records[i]);
        tally.add(records[i], a);
        on_answer(i, a);
    }
    return tally;
}

}  // namespace hoprag::components
