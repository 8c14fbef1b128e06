// hoprag-retrieve: top-k passages for HotpotQA questions from an index built by hoprag-index (flat,
// FAISS IVF or HNSW: whichever kind the file holds), dense or hybrid with BM25 (--bm25-weight), in
// one hop or two (--hops 2).
// Writes JSON Lines (one line per question: {"_id", "passages": [{"title", "chunk", "score"}, ...]})
// durably; progress on stderr; a JSON summary as the last line of stdout.
#include <chrono>
#include <cstdio>
#include <set>
#include <type_traits>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hoprag/components/hybrid.hpp"
#include "hoprag/components/open_index.hpp"
#include "hoprag/components/retriever.hpp"
#include "hoprag/components/two_hop.hpp"
#include "hoprag/data/ranked_passage_file.hpp"
#include "hoprag/io/durable_file.hpp"
#include "retrieval_cli.hpp"

namespace {

constexpr const char* usage = R"(usage: hoprag-retrieve --model DIR --index INDEX --corpus FILE [--corpus FILE...] --out OUT [options] QUESTIONS

Encodes the questions of QUESTIONS (HotpotQA records, labelled or not, or plain text with one
question per line, "_id" line-N) and writes, for each, the top-k passages of INDEX to OUT as JSON
Lines: {"_id": "...", "passages": [{"title", "chunk", "score", "sentences": [first, last]}, ...]},
best first. The corpus files (and --limit) must be those the index was built from: the index header's
corpus hash, model, pooling and normalisation are checked and a mismatch is refused. The index
kind (flat, ivf, hnsw) is read from the file; --nprobe and --ef-search override the search
parameters stored in a FAISS index.

  --index INDEX        index written by hoprag-index
  --corpus FILE        HotpotQA file of the corpus (repeat, same order as for hoprag-index)
  --out OUT            JSON Lines output (temporary file, fsync, rename)
  --k N                passages per question; default 200
  --nprobe N           IVF lists searched per question (default: as built)
  --ef-search N        HNSW search beam width (default: as built)
  --hops 1|2           2: a second hop queries with the question plus each of the first --seeds
                       hop-1 passages; merged by best score (components/two_hop.hpp); default 1
  --seeds N            hop-1 passages that start a second-hop query; default 5
  --bm25-weight W      hybrid retrieval: score = cosine + W * BM25 / best BM25 of the question, over
                       the dense and the BM25 top max(k, 200) (components/hybrid.hpp); default 0 (dense)
  --hybrid             same as --bm25-weight 0.6
  --show N             print the first N questions to stderr: gold titles, top-5 titles and scores
)";

}  // namespace

int main(int argc, char** argv) {
    const char* prog = "hoprag-retrieve";
    return program::guarded_main(prog, usage, [&]() -> int {
        cli::encoder_flags flags;
        cli::index_flags iflags;
        std::string index_path, out, questions_path;
        std::vector<std::string> corpus;
        std::int64_t k = 200;
        std::size_t show = 0;
        cli::first_stage_flags stage;
        for (int i = 1; i < argc; ++i) {
            const std::string a = argv[i];
            if (a == "--help" || a == "-h") {
                std::cout << usage << cli::encoder_help << "\nExit status: 0 on success, 1 on bad input, 2 on bad usage.\n";
                return 0;
            }
            if (flags.parse(argc, argv, i) || stage.parse(argc, argv, i) || (a != "--index" && iflags.parse(argc, argv, i))) continue;
            const auto value = [&]() -> std::string {
                if (i + 1 >= argc) throw cli::usage_error(a + " needs a value");
                return argv[++i];
            };
            if (a == "--index") index_path = value();
            else if (a == "--corpus") corpus.push_back(value());
            else if (a == "--out") out = value();
            else if (a == "--k") k = program::integer_flag(a, value());
            else if (a == "--show") show = static_cast<std::size_t>(program::integer_flag(a, value(), 0));
            else if (a.size() > 1 && a[0] == '-') throw cli::usage_error("unknown option " + a);
            else if (questions_path.empty()) questions_path = a;
            else throw cli::usage_error("more than one QUESTIONS file: " + a);
        }
        flags.check();
        stage.check(true);
        if (index_path.empty() || out.empty() || corpus.empty() || questions_path.empty())
            throw cli::usage_error("--index, --corpus, --out and QUESTIONS are required");
        const auto loaded = cli::load_corpus(corpus, flags.limit, flags.unit, prog);
        const auto& passages = loaded.passages;
        const auto questions = hoprag::data::load_questions(questions_path);
        std::cerr << prog << ": " << questions.size() << " questions from " << questions_path << "\n";
        return cli::dispatch(prog, flags, [&]<class Backend, class Pooling, class Storage>() {
            using context = typename Backend::context;
            namespace bert = hoprag::models::bert;
            namespace comp = hoprag::components;
            context ctx(0, cli::stderr_sink(prog));
            bert::encoder<context, Pooling> enc(ctx, flags.model, flags.options);
            const auto header = comp::retriever<decltype(enc), comp::flat_index<context, Storage>>::header_for(enc, passages);
            const auto query = [&](auto& index, const std::string& kind) {
                using retriever = comp::retriever<decltype(enc), std::remove_reference_t<decltype(index)>>;
                if (index.size() != static_cast<std::int64_t>(passages.size()))
                    throw hoprag::format_error(index_path + ": holds " + std::to_string(index.size()) +
                                               " vectors, the corpus has " + std::to_string(passages.size()) + " passages");
                retriever r(enc, index, ctx);
                std::vector<std::string> texts;
                for (const auto& q : questions) texts.push_back(q.question);
                const auto t0 = std::chrono::steady_clock::now();
                const comp::two_hop_options hop{.k = k, .seeds = stage.hop_seeds()};
                std::vector<std::vector<comp::hit>> hits;
                if (stage.bm25_weight > 0) {
                    comp::hybrid_retriever<retriever> hybrid(r, loaded.corpus, passages.size(), {.bm25_weight = stage.bm25_weight});
                    hits = comp::retrieve_two_hop(hybrid, texts, passages, hop);
                } else
                    hits = comp::retrieve_two_hop(r, texts, passages, hop);
                const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
                hoprag::io::durable_writer w(out);
                for (std::size_t i = 0; i < questions.size(); ++i)
                    w.write(hoprag::data::ranked_passages_line(questions[i].id, comp::hit_passages(hits[i], passages)));
                w.commit();
                for (std::size_t i = 0; i < std::min(show, questions.size()); ++i) {
                    std::set<std::string> gold;
                    for (const auto& f : questions[i].supporting_facts) gold.insert(f.title);
                    std::cerr << "\nQ: " << questions[i].question << "\n   gold:";
                    for (const auto& g : gold) std::cerr << " [" << g << "]";
                    std::cerr << "\n";
                    for (std::size_t r = 0; r < std::min<std::size_t>(5, hits[i].size()); ++r) {
                        const auto& t = passages[static_cast<std::size_t>(hits[i][r].passage)].title;
                        char score[32];
                        std::snprintf(score, sizeof score, "%.3f", hits[i][r].score);
                        std::cerr << "   " << (r + 1) << ". " << score << "  " << t << (gold.count(t) ? "  (gold)" : "") << "\n";
                    }
                }
                if (show) std::cerr << "\n";
                nlohmann::ordered_json j;
                j["out"] = out;
                j["questions"] = questions.size();
                j["k"] = std::min<std::int64_t>(k, index.size());
                j["corpus_passages"] = index.size();
                j["index_kind"] = kind;
                j["hops"] = stage.hops;
                if (stage.hops == 2) j["seeds"] = stage.seeds;
                j["bm25_weight"] = stage.bm25_weight;
                j["seconds"] = secs;
                j["questions_per_s"] = secs > 0 ? double(questions.size()) / secs : 0.0;
                return j;
            };
            comp::index_search_options search;
            if (iflags.nprobe_set) search.nprobe = iflags.ivf.nprobe;
            if (iflags.ef_search_set) search.ef_search = iflags.hnsw.ef_search;
            const auto j = comp::with_index_file<Storage>(ctx, index_path, header, [&](auto& index, const std::string& kind) {
                auto j = query(index, kind);
                if constexpr (requires { index.kind().nprobe; }) j["nprobe"] = index.kind().nprobe;
                if constexpr (requires { index.kind().ef_search; }) j["ef_search"] = index.kind().ef_search;
                return j;
            }, search);
            std::cout << j.dump() << std::endl;
            return 0;
        });
    });
}
