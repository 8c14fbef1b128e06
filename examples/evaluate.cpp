// hoprag-evaluate: the official HotpotQA metrics for a prediction file, and retrieval metrics for a
// ranked passage file. Prints progress to stderr and one JSON object as the last line of stdout.
//   hoprag-evaluate GOLD PRED
//   hoprag-evaluate --retrieval GOLD RETRIEVED
#include <simdjson.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "hoprag/data/hotpotqa.hpp"
#include "hoprag/data/ranked_passage_file.hpp"
#include "hoprag/eval/hotpot_metrics.hpp"
#include "hoprag/eval/hotpot_predictions_io.hpp"
#include "hoprag/eval/retrieval_metrics.hpp"

namespace {

constexpr const char* usage = R"(usage: hoprag-evaluate [--skip-invalid] GOLD PRED
       hoprag-evaluate --retrieval [--skip-invalid] GOLD RETRIEVED

Scores HotpotQA predictions with the rules of the official hotpot_evaluate_v1.py.

  GOLD       HotpotQA questions: the official JSON array (e.g. hotpot_dev_distractor_v1.json)
             or JSON Lines, one record per line.
  PRED       predictions in the official format:
             {"answer": {"<_id>": "text", ...}, "sp": {"<_id>": [["title", sent_id], ...], ...}}
  RETRIEVED  JSON Lines, one line per question:
             {"_id": "...", "passages": [{"title": "...", "chunk": "...", "score": 1.5}, ...]}
             with passages ranked best first.

Output (last line of stdout, one JSON object):
  answers:    em f1 prec recall sp_em sp_f1 sp_prec sp_recall joint_em joint_f1 joint_prec
              joint_recall (averages over ALL gold questions; a missing prediction scores 0),
              then "by_type" (the same keys per question type), "questions", "missing_answer",
              "missing_sp", "unknown_answer_ids", "unknown_sp_ids", "unknown_id_examples".
  retrieval:  "recall@K" (mean share of gold paragraphs in the top K) and "both_recall@K"
              (share of questions with every gold paragraph in the top K) for K = 2, 10, 20, 200,
              "mrr" (mean reciprocal rank of the first gold paragraph), "questions", "missing",
              "unknown_ids".

Options:
  --skip-invalid  skip (and count) invalid gold records instead of stopping at the first one
  --help          show this text
Exit status: 0 on success, 1 on bad input (one line on stderr says what and where), 2 on bad usage.
)";

nlohmann::ordered_json scores_json(const hoprag::eval::hotpot_scores& s) {
    nlohmann::ordered_json j;
    j["em"] = s.answer.em, j["f1"] = s.answer.f1, j["prec"] = s.answer.prec, j["recall"] = s.answer.recall;
    j["sp_em"] = s.sp.em, j["sp_f1"] = s.sp.f1, j["sp_prec"] = s.sp.prec, j["sp_recall"] = s.sp.recall;
    j["joint_em"] = s.joint.em, j["joint_f1"] = s.joint.f1, j["joint_prec"] = s.joint.prec;
    j["joint_recall"] = s.joint.recall;
    return j;
}

// Reads RETRIEVED: id -> ranked titles (only titles are kept, so large files stay cheap).
std::unordered_map<std::string, std::vector<std::string>> read_retrieved(const std::string& path) {
    std::unordered_map<std::string, std::vector<std::string>> out;
    auto file = hoprag::data::read_ranked_passages(path, 0, false);
    for (auto& [id, list] : file.by_id) {
        auto& titles = out[id];
        for (auto& p : list) titles.push_back(std::move(p.title));
    }
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> pos;
    bool retrieval = false;
    hoprag::data::load_options opts;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--help" || a == "-h") {
            std::cout << usage;
            return 0;
        }
        if (a == "--retrieval") retrieval = true;
        else if (a == "--skip-invalid") opts.skip_invalid = true;
        else if (a.size() > 1 && a[0] == '-') {
            std::cerr << "hoprag-evaluate: unknown option " << a << " (see --help)\n";
            return 2;
        } else pos.push_back(a);
    }
    if (pos.size() != 2) {
        std::cerr << "hoprag-evaluate: expected 2 file arguments, got " << pos.size() << " (see --help)\n";
        return 2;
    }
    try {
        hoprag::data::load_stats stats;
        const auto gold = hoprag::data::load_all(pos[0], opts, &stats);
        std::cerr << "hoprag-evaluate: " << gold.size() << " gold questions from " << pos[0];
        if (stats.skipped) std::cerr << " (" << stats.skipped << " invalid records skipped)";
        std::cerr << "\n";
        nlohmann::ordered_json out;
        if (retrieval) {
            const auto retrieved = read_retrieved(pos[1]);
            const auto r = hoprag::eval::evaluate_retrieval(gold, retrieved, {2, 10, 20, 200});
            for (const auto& [k, v] : r.recall_at) out["recall@" + std::to_string(k)] = v;
            for (const auto& [k, v] : r.both_recall_at) out["both_recall@" + std::to_string(k)] = v;
            out["mrr"] = r.mrr;
            out["questions"] = r.questions;
            out["missing"] = r.missing;
            out["unknown_ids"] = r.unknown_ids;
        } else {
            const auto pred = hoprag::eval::read_hotpot_predictions(pos[1]);
            const auto rep = hoprag::eval::evaluate_hotpot(gold, pred);
            out = scores_json(rep.overall);
            for (const auto& [type, s] : rep.by_type) {
                out["by_type"][type] = scores_json(s);
                out["by_type"][type]["questions"] = s.questions;
            }
            out["questions"] = rep.overall.questions;
            out["missing_answer"] = rep.missing_answer;
            out["missing_sp"] = rep.missing_sp;
            out["unknown_answer_ids"] = rep.unknown_answer_ids;
            out["unknown_sp_ids"] = rep.unknown_sp_ids;
            out["unknown_id_examples"] = rep.unknown_id_examples;
            if (rep.unknown_answer_ids + rep.unknown_sp_ids)
                std::cerr << "hoprag-evaluate: " << rep.unknown_answer_ids << " answer and " << rep.unknown_sp_ids
                          << " sp predictions name ids not in the gold file (ignored)\n";
        }
        out["skipped_gold_records"] = stats.skipped;
        std::cout << out.dump() << std::endl;
        return 0;
    } catch (const std::exception& e) {
        std::string msg = e.what();
        for (auto& c : msg)
            if (c == '\n') c = ' ';
        std::cerr << "hoprag-evaluate: " << msg << "\n";
        return 1;
    }
}
