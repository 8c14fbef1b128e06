// hoprag-rerank: re-scores a retrieval JSONL (hoprag-retrieve output) with a trained cross-encoder
// and writes the same format: per question its top --top passages reordered by the reranker, each
// with the reranker's logit as "score". With labelled questions it also reports, on the reranked
// questions, both-gold recall@{2,4,8,12}, MRR and supporting-paragraph EM (the top 2 titles are
// exactly the gold titles) for the retriever's order and for the reranker's order.
// --fusion scores with the model's score fusion (the retriever_weight in MODEL/model.safetensors, from hoprag-train-reranker
// --fusion-weight): score = logit + w * the retrieval file's score.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "hoprag/components/reranker.hpp"
#include "hoprag/core/clock.hpp"
#include "hoprag/data/heldout_split.hpp"
#include "hoprag/data/hotpotqa.hpp"
#include "hoprag/data/ranked_passage_file.hpp"
#include "hoprag/eval/retrieval_metrics.hpp"
#include "hoprag/io/durable_file.hpp"
#include "hoprag/train/metrics_log.hpp"
#include "device_flag.hpp"
#include "program_main.hpp"

namespace {

constexpr const char* usage = R"(usage: hoprag-rerank --model DIR --questions FILE[,FILE] --out OUT [options] RETRIEVAL

Re-scores the top passages of RETRIEVAL (hoprag-retrieve JSON Lines) with the cross-encoder in DIR
(a 1-label BertForSequenceClassification folder, e.g. OUT/model of hoprag-train-reranker) and
writes OUT in the same format, best first, "score" = reranker logit.

  --model DIR          cross-encoder folder, required
  --questions FILES    HotpotQA files holding the questions (comma-separated), required
  --out OUT            JSON Lines output (temporary file, fsync, rename), required
  --top N              passages reranked and written per question            [20]
  --split S            all|held-out|train: which questions (held out iff FNV-1a64(_id) % 8 == 0)  [all]
  --limit N            rerank at most N questions (0: all)                   [0]
  --max-length N       tokens per pair                                       [256]
  --batch N            pairs per forward                                     [32]
  --device D           cpu|cuda|auto (auto: cuda when a GPU is present)      [auto]
  --fusion             score = logit + w * retriever score, w = the model's retriever_weight (a model
                       trained with --fusion-weight); without it the logit alone
  --help               show this text
Exit status: 0 on success, 1 on bad input, 2 on bad usage.
Last stdout line: {"questions":..,"top":..,"pairs_per_s":..,"retriever":{..},"reranker":{..}})";

using program::usage_error;

// Both-gold recall@{2,4,8,12}, MRR and sp_em (the first two titles are exactly the gold pair).
nlohmann::ordered_json report(const std::vector<hoprag::data::hotpot_record>& gold,
                              const std::unordered_map<std::string, std::vector<std::string>>& ranked) {
    const auto r = hoprag::eval::evaluate_retrieval(gold, ranked, {2, 4, 8, 12});
    nlohmann::ordered_json j;
    for (const auto& [k, v] : r.both_recall_at) j["both_at_" + std::to_string(k)] = v;
    j["mrr"] = r.mrr;
    j["sp_em"] = r.top2_exact;
    return j;
}

int run(int argc, char** argv) {
    std::string model, questions, out, retrieval, split = "all", device = "auto";
    std::int64_t top = 20, limit = 0, max_length = 256, batch = 32;
    bool fusion = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--help" || a == "-h") throw usage_error("");
        const auto value = [&]() -> std::string {
            if (i + 1 >= argc) throw usage_error(a + " needs a value");
            return argv[++i];
        };
        const auto integer = [&](std::int64_t lo) { return program::integer_flag(a, value(), lo); };
        if (a == "--model") model = value();
        else if (a == "--questions") questions = value();
        else if (a == "--out") out = value();
        else if (a == "--top") top = integer(1);
        else if (a == "--limit") limit = integer(0);
        else if (a == "--max-length") max_length = integer(8);
        else if (a == "--batch") batch = integer(1);
        else if (a == "--split") split = value();
        else if (a == "--device") device = value();
        else if (a == "--fusion") fusion = true;
        else if (a.size() > 1 && a[0] == '-') throw usage_error("unknown option " + a);
        else if (retrieval.empty()) retrieval = a;
        else throw usage_error("more than one RETRIEVAL file: " + a);
    }
    if (model.empty() || questions.empty() || out.empty() || retrieval.empty())
        throw usage_error("--model, --questions, --out and RETRIEVAL are required");
    hoprag::data::split_part part;
    try {
        part = hoprag::data::parse_split_part(split);
    } catch (const hoprag::config_error& e) {
        throw usage_error(std::string("--split: ") + e.what());
    }

    namespace comp = hoprag::components;
    std::unordered_map<std::string, hoprag::data::hotpot_record> by_id;
    for (auto& r : hoprag::data::load_files(questions, hoprag::data::question_input())) by_id.emplace(r.id, std::move(r));
    const auto ret = hoprag::data::read_ranked_passages(retrieval);
    return program::run_on_device<true>("hoprag-rerank", device, [&]<class Backend>() {
        typename Backend::context ctx;
        comp::reranker<comp::softmax_loss, Backend> rr(ctx, model, {.max_length = max_length, .max_batch = batch, .train = false});
        rr.use_fusion(fusion, model);
        std::vector<hoprag::data::hotpot_record> gold;
        std::unordered_map<std::string, std::vector<std::string>> before, after;
        hoprag::io::durable_writer w(out);
        hoprag::train::progress_printer progress;
        const auto t0 = std::chrono::steady_clock::now();
        std::size_t done = 0, unknown = 0, pairs = 0;
        std::vector<std::string> ids;
        for (const auto& id : ret.order) {
            if (!hoprag::data::in_split(id, part)) continue;
            if (!by_id.count(id)) {
                ++unknown;
                continue;
            }
            ids.push_back(id);
            if (limit > 0 && static_cast<std::int64_t>(ids.size()) >= limit) break;
        }
        for (const auto& id : ids) {
            const auto& q = by_id.at(id);
            const auto& ps = ret.by_id.at(id);
            const auto reranked = rr.rerank(q.question, ps, static_cast<std::size_t>(top));
            pairs += reranked.size();
            for (const auto& p : reranked) after[id].push_back(p.title);
            for (std::size_t i = 0; i < reranked.size(); ++i) before[id].push_back(ps[i].title);
            w.write(hoprag::data::ranked_passages_line(id, reranked));
            if (!q.supporting_facts.empty()) gold.push_back(q);
            ++done;
            progress.print({static_cast<std::int64_t>(done), static_cast<std::int64_t>(ids.size()), NAN, -1.0,
                            hoprag::seconds_since(t0) / double(done) * double(ids.size() - done)});
        }
        progress.finish();
        w.commit();
        const double secs = hoprag::seconds_since(t0);
        nlohmann::ordered_json j;
        j["out"] = out;
        j["questions"] = done;
        j["unknown_ids"] = unknown;
        j["top"] = top;
        j["split"] = split;
        j["fusion_weight"] = rr.retriever_weight();
        j["seconds"] = secs;
        j["pairs_per_s"] = secs > 0 ? double(pairs) / secs : 0.0;
        if (!gold.empty()) {
            j["labelled_questions"] = gold.size();
            j["retriever"] = report(gold, before);
            j["reranker"] = report(gold, after);
        }
        std::cout << j.dump() << std::endl;
        return 0;
    });
}

}  // namespace

int main(int argc, char** argv) {
    return program::guarded_main("hoprag-rerank", usage, [&] { return run(argc, argv); });
}
