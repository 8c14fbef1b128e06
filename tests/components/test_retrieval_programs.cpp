// End-to-end checks of hoprag-index and hoprag-retrieve on a tiny slice of the shared HotpotQA data
// with the real all-MiniLM-L6-v2 model: exit codes, the JSON summary as the last stdout line, the
// JSONL output format read back by hoprag-evaluate --retrieval, ranked scores, and refusal of an
// index built with other flags (exit 1, one line naming the field) and of bad usage (exit 2).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "support/files.hpp"

namespace fs = std::filesystem;
using namespace hoprag;

namespace {

std::string q(const fs::path& p) { return "'" + p.string() + "'"; }

}  // namespace

TEST_CASE("hoprag-index and hoprag-retrieve build, check and query an index", "[retriever][programs]") {
    const fs::path dir = fs::temp_directory_path() / ("hoprag_retrieval_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const std::string root = test::source_dir();
    const fs::path model = root + "/.cache/models/all-minilm-l6-v2";
    const fs::path dev = root + "/../shared/data/hotpotqa/hotpot_dev_sample.jsonl";
    {  // three questions; their paragraphs (limit 12) are the corpus
        std::ifstream in(dev);
        std::ofstream out(dir / "q.jsonl");
        std::string l;
        for (int i = 0; i < 3 && std::getline(in, l); ++i) out << l << "\n";
    }
    const auto corpus = q(dir / "q.jsonl");
    const std::string common = " --model " + q(model) + " --limit 12 ";
    REQUIRE(test::run_command(q(test::program("hoprag-index")) + common + "--out " + q(dir / "c.idx") + " " + corpus + " > " +
                q(dir / "index.out") + " 2> " + q(dir / "index.err")) == 0);
    const auto summary = nlohmann::json::parse(test::lines_of(dir / "index.out").back());
    CHECK(summary.at("passages") == 12);
    CHECK(summary.at("dimension") == 384);
    CHECK(summary.at("model") == "all-minilm-l6-v2");
    CHECK(fs::exists(dir / "c.idx"));
    // --print-header gives the header the index got, without encoding (the demo's cache key)
    REQUIRE(test::run_command(q(test::program("hoprag-index")) + common + "--print-header " + corpus + " > " + q(dir / "header.out") +
                " 2>/dev/null") == 0);
    const auto header = nlohmann::json::parse(test::lines_of(dir / "header.out").back());
    CHECK(header.at("corpus_hash") == summary.at("corpus_hash"));
    CHECK(header.at("passages") == 12);

    REQUIRE(test::run_command(q(test::program("hoprag-retrieve")) + common + "--index " + q(dir / "c.idx") + " --corpus " + corpus +
                " --k 5 --out " + q(dir / "r.jsonl") + " " + corpus + " > " + q(dir / "ret.out") + " 2> " +
                q(dir / "ret.err")) == 0);
    CHECK(nlohmann::json::parse(test::lines_of(dir / "ret.out").back()).at("questions") == 3);
    // --show 2: two questions with gold titles and ranked titles on stderr
    REQUIRE(test::run_command(q(test::program("hoprag-retrieve")) + common + "--index " + q(dir / "c.idx") + " --corpus " + corpus +
                " --k 5 --show 2 --out " + q(dir / "r-show.jsonl") + " " + corpus + " > /dev/null 2> " +
                q(dir / "show.err")) == 0);
    int gold_lines = 0, ranked = 0;
    for (const auto& l : test::lines_of(dir / "show.err")) {
        gold_lines += l.rfind("   gold:", 0) == 0;
        ranked += l.rfind("   1. ", 0) == 0;
    }
    CHECK(gold_lines == 2);
    CHECK(ranked == 2);
    const auto out = test::lines_of(dir / "r.jsonl");
    REQUIRE(out.size() == 3);
    for (const auto& l : out) {
        const auto j = nlohmann::json::parse(l);
        CHECK(j.at("_id").is_string());
        const auto& ps = j.at("passages");
        REQUIRE(ps.size() == 5);
        for (std::size_t i = 0; i < ps.size(); ++i) {
            CHECK(ps[i].at("title").is_string());
            CHECK(!ps[i].at("chunk").get<std::string>().empty());
            CHECK(ps[i].at("sentences").at(0).get<int>() <= ps[i].at("sentences").at(1).get<int>());  // the span for sp mapping
            if (i) CHECK(ps[i].at("score").get<double>() <= ps[i - 1].at("score").get<double>());
        }
    }
    REQUIRE(test::run_command(q(test::program("hoprag-evaluate")) + " --retrieval " + corpus + " " + q(dir / "r.jsonl") + " > " +
                q(dir / "eval.out") + " 2>/dev/null") == 0);
    const auto metrics = nlohmann::json::parse(test::lines_of(dir / "eval.out").back());
    CHECK(metrics.at("questions") == 3);
    CHECK(metrics.at("missing") == 0);

    // an index built with other flags is refused with one line naming the field
    CHECK(test::run_command(q(test::program("hoprag-retrieve")) + common + "--pooling cls --index " + q(dir / "c.idx") + " --corpus " +
              corpus + " --out " + q(dir / "r2.jsonl") + " " + corpus + " > /dev/null 2> " + q(dir / "bad.err")) == 1);
    const auto err = test::lines_of(dir / "bad.err");
    REQUIRE(!err.empty());
    CHECK(err.back().find("pooling is \"mean\", expected \"cls\"") != std::string::npos);
    CHECK(!fs::exists(dir / "r2.jsonl"));
    // hybrid dense + BM25, two hops: same format, the weight in the summary
    REQUIRE(test::run_command(q(test::program("hoprag-retrieve")) + common + "--index " + q(dir / "c.idx") + " --corpus " + corpus +
                " --k 5 --hybrid --hops 2 --seeds 2 --out " + q(dir / "rh.jsonl") + " " + corpus + " > " + q(dir / "rh.out") + " 2>/dev/null") == 0);
    CHECK(nlohmann::json::parse(test::lines_of(dir / "rh.out").back()).at("bm25_weight").get<double>() == Approx(0.6));
    CHECK(test::lines_of(dir / "rh.jsonl").size() == 3);
    CHECK(nlohmann::json::parse(test::lines_of(dir / "rh.jsonl").at(0)).at("passages").size() == 5);
    CHECK(test::run_command(q(test::program("hoprag-retrieve")) + common + "--index " + q(dir / "c.idx") + " --corpus " + corpus + " --bm25-weight -1 --out " +
              q(dir / "rx.jsonl") + " " + corpus + " > /dev/null 2>&1") == 2);
    // a passage unit other than chunk or paragraph is bad usage
    CHECK(test::run_command(q(test::program("hoprag-index")) + common + "--unit sentence --print-header " + corpus + " > /dev/null 2>&1") == 2);
    // other limit = other corpus hash
    CHECK(test::run_command(q(test::program("hoprag-retrieve")) + " --model " + q(model) + " --limit 11 --index " + q(dir / "c.idx") +
              " --corpus " + corpus + " --out " + q(dir / "r3.jsonl") + " " + corpus + " > /dev/null 2>&1") == 1);
    // FAISS kinds: with every list probed (IVF) or a beam wider than the corpus (HNSW) the search is
    // exact, so the ranking equals the flat index's; hoprag-retrieve reads the kind from the file
    for (const std::string kind : {"ivf", "hnsw"}) {
        INFO("--index " << kind);
        const auto idx = dir / (kind + ".idx");
        REQUIRE(test::run_command(q(test::program("hoprag-index")) + common + "--index " + kind + " --nlist 3 --nprobe 3 --out " + q(idx) +
                    " " + corpus + " > " + q(dir / "k.out") + " 2>/dev/null") == 0);
        CHECK(nlohmann::json::parse(test::lines_of(dir / "k.out").back()).at("kind") == kind);
        REQUIRE(test::run_command(q(test::program("hoprag-retrieve")) + common + "--index " + q(idx) + " --corpus " + corpus + " --k 5 --out " +
                    q(dir / "rk.jsonl") + " " + corpus + " > " + q(dir / "rk.out") + " 2>/dev/null") == 0);
        CHECK(nlohmann::json::parse(test::lines_of(dir / "rk.out").back()).at("index_kind") == kind);
        const auto got = test::lines_of(dir / "rk.jsonl");
        REQUIRE(got.size() == out.size());
        for (std::size_t i = 0; i < out.size(); ++i) {
            const auto a = nlohmann::json::parse(out[i]).at("passages"), b = nlohmann::json::parse(got[i]).at("passages");
            REQUIRE(a.size() == b.size());
            for (std::size_t r = 0; r < a.size(); ++r) {
                CHECK(a[r].at("title") == b[r].at("title"));
                CHECK(a[r].at("score").get<double>() == Approx(b[r].at("score").get<double>()).margin(1e-5));
            }
        }
        // the FAISS index refuses another pooling just like the flat one
        CHECK(test::run_command(q(test::program("hoprag-retrieve")) + common + "--pooling cls --index " + q(idx) + " --corpus " + corpus +
                  " --out " + q(dir / "r4.jsonl") + " " + corpus + " > /dev/null 2>&1") == 1);
    }
    // bad usage
    CHECK(test::run_command(q(test::program("hoprag-index")) + " --index lsh --model x --out y z > /dev/null 2>&1") == 2);
    CHECK(test::run_command(q(test::program("hoprag-index")) + " --pooling max --model x --out y z > /dev/null 2>&1") == 2);
    CHECK(test::run_command(q(test::program("hoprag-retrieve")) + " --help > /dev/null 2>&1") == 0);
    fs::remove_all(dir);
}
