// FAISS-backed indexes (IVF-Flat, HNSW-Flat over inner product): recall@10 against exact float64
// search on random unit vectors, scores equal to the returned vectors' inner products, durable
// save/load round trip with identical results, refusal of mismatched headers, another kind, a flat
// index file, damaged and truncated files, too few vectors to train, and the file-kind probe.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "hoprag/components/faiss_index.hpp"
#include "hoprag/components/retriever.hpp"
#include "hoprag/core/rng.hpp"
#include "hoprag/cpu/backend.hpp"
#include "support/files.hpp"

using namespace hoprag;
using namespace hoprag::components;

namespace {

constexpr std::int64_t dim = 32, n = 3000, nq = 60, k = 10;

index_header test_header() { return {"test-model", dim, "mean", true, "0123456789abcdef"}; }

std::vector<float> unit_vectors(std::int64_t count, std::uint64_t seed) {
    const philox_stream s{seed, 0};
    std::vector<float> v(static_cast<std::size_t>(count * dim));
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = s.uniform(i) - 0.5f;
    for (std::int64_t r = 0; r < count; ++r) {
        double ss = 0;
        for (std::int64_t j = 0; j < dim; ++j) ss += double(v[r * dim + j]) * v[r * dim + j];
        for (std::int64_t j = 0; j < dim; ++j) v[r * dim + j] = static_cast<float>(v[r * dim + j] / std::sqrt(ss));
    }
    return v;
}

double dot(const std::vector<float>& a, std::int64_t i, const std::vector<float>& b, std::int64_t j) {
    double s = 0;
    for (std::int64_t c = 0; c < dim; ++c) s += double(a[i * dim + c]) * b[j * dim + c];
    return s;
}

/// Mean recall@k of `r` against exact float64 search; also checks every returned score.
double recall(const search_result& r, const std::vector<float>& base, const std::vector<float>& queries) {
    REQUIRE(r.queries == nq);
    REQUIRE(r.k == k);
    double found = 0;
    for (std::int64_t q = 0; q < nq; ++q) {
        std::vector<std::int32_t> order(static_cast<std::size_t>(n));
        std::iota(order.begin(), order.end(), 0);
        std::partial_sort(order.begin(), order.begin() + k, order.end(),
                          [&](auto a, auto b) { return dot(queries, q, base, a) > dot(queries, q, base, b); });
        const std::set<std::int32_t> truth(order.begin(), order.begin() + k);
        for (std::int64_t j = 0; j < k; ++j) {
            const auto id = r.ids[static_cast<std::size_t>(q * k + j)];
            if (id < 0) continue;
            REQUIRE(id < n);
            CHECK(std::abs(double(r.scores[static_cast<std::size_t>(q * k + j)]) - dot(queries, q, base, id)) < 1e-5);
            if (j > 0) CHECK(r.scores[static_cast<std::size_t>(q * k + j)] <= r.scores[static_cast<std::size_t>(q * k + j - 1)]);
            found += truth.count(id);
        }
    }
    return found / double(nq * k);
}

template <class Kind>
void round_trip(faiss_index<Kind>& idx, const std::vector<float>& queries, const std::string& name) {
    const auto dir = test::fresh_dir("faiss-" + name);
    const auto path = dir / (name + ".index");
    const auto before = idx.search(queries, k);
    idx.save(path);
    CHECK(index_file_kind(path) == std::string(Kind::name));
    auto back = faiss_index<Kind>::load(path, test_header());
    CHECK(back.size() == n);
    const auto after = back.search(queries, k);
    CHECK(after.ids == before.ids);
    CHECK(after.scores == before.scores);
    for (const auto& e : std::filesystem::directory_iterator(dir))  // no temporary file left behind
        CHECK(e.path().filename() == path.filename());

    auto other = test_header();
    other.corpus_hash = "ffffffffffffffff";
    other.pooling = "cls";
    try {
        faiss_index<Kind>::load(path, other);
        FAIL("a mismatched header was accepted");
    } catch (const config_error& e) {
        CHECK_THAT(e.what(), Catch::Contains("corpus_hash") && Catch::Contains("pooling") && Catch::Contains(path.string()));
    }
}

}  // namespace

static_assert(dense_index<faiss_index<ivf_flat>>);
static_assert(dense_index<faiss_index<hnsw_flat>>);
static_assert(faiss_kind<ivf_flat> && faiss_kind<hnsw_flat>);
static_assert(!faiss_kind<int>);

TEST_CASE("faiss_index: IVF-Flat recall@10 >= 0.9 vs exact search, round trip, mismatch refused", "[faiss]") {
    const auto base = unit_vectors(n, 11), queries = unit_vectors(nq, 12);
    // 3,000 random unit vectors in 32 dimensions, 32 lists, 16 probed (uniform data has no clusters)
    faiss_index<ivf_flat> idx(test_header(), {.nlist = 32, .nprobe = 16});
    idx.add(std::span(base).first(static_cast<std::size_t>(1000 * dim)));
    idx.add(std::span(base).subspan(static_cast<std::size_t>(1000 * dim)));
    CHECK(idx.size() == n);
    const double r = recall(idx.search(queries, k), base, queries);
    INFO("IVF recall@10 " << r);
    CHECK(r >= 0.9);
    idx.kind().nprobe = 1;  // fewer probes: lower recall, and the parameter really is applied
    CHECK(recall(idx.search(queries, k), base, queries) < r);
    idx.kind().nprobe = 16;
    round_trip(idx, queries, "ivf");
}

TEST_CASE("faiss_index: HNSW-Flat recall@10 >= 0.9 vs exact search, round trip, mismatch refused", "[faiss]") {
    const auto base = unit_vectors(n, 21), queries = unit_vectors(nq, 22);
    // 3,000 random unit vectors in 32 dimensions, M = 16, efConstruction = 40, efSearch = 64
    faiss_index<hnsw_flat> idx(test_header(), {.m = 16, .ef_construction = 40, .ef_search = 64});
    idx.add(base);
    const double r = recall(idx.search(queries, k), base, queries);
    INFO("HNSW recall@10 " << r);
    CHECK(r >= 0.9);
    round_trip(idx, queries, "hnsw");
}

TEST_CASE("faiss_index: bad input and bad files are refused with a clear error", "[faiss]") {
    const auto dir = test::fresh_dir("faiss-bad");
    const auto base = unit_vectors(200, 31);
    faiss_index<ivf_flat> ivf(test_header(), {.nlist = 8, .nprobe = 2});
    CHECK_THROWS_AS(ivf.add(std::vector<float>(dim + 1)), shape_error);
    CHECK_THROWS_AS(ivf.save(dir / "empty.index"), config_error);
    CHECK_FALSE(std::filesystem::exists(dir / "empty.index"));
    faiss_index<ivf_flat> too_many_lists(test_header(), {.nlist = 500, .nprobe = 2});
    too_many_lists.add(base);
    CHECK_THROWS_AS(too_many_lists.build(), config_error);
    faiss_index<ivf_flat> auto_lists(test_header(), {.nlist = 0});
    auto_lists.add(base);
    auto_lists.build();
    CHECK(auto_lists.kind().nlist == 56);  // 4 * sqrt(200)

    ivf.add(base);
    const auto good = dir / "ivf.index";
    ivf.save(good);
    // another kind
    CHECK_THROWS_AS(faiss_index<hnsw_flat>::load(good, test_header()), config_error);
    // a flat index file
    cpu::context ctx;
    flat_index<cpu::context> flat(ctx, test_header());
    flat.add(base);
    flat.save(dir / "flat.index");
    CHECK(index_file_kind(dir / "flat.index") == "flat");
    CHECK_THROWS_AS(faiss_index<ivf_flat>::load(dir / "flat.index", test_header()), format_error);
    // not an index at all, a missing file, a truncated file, a damaged byte in the FAISS data
    std::ofstream(dir / "text.index") << "hello";
    CHECK_THROWS_AS(faiss_index<ivf_flat>::load(dir / "text.index", test_header()), hoprag::error);
    CHECK_THROWS_AS(index_file_kind(dir / "text.index"), hoprag::error);
    CHECK_THROWS_AS(faiss_index<ivf_flat>::load(dir / "missing.index", test_header()), hoprag::error);
    std::string bytes = test::slurp(good);
    std::ofstream(dir / "short.index", std::ios::binary) << bytes.substr(0, bytes.size() - 100);
    CHECK_THROWS_AS(faiss_index<ivf_flat>::load(dir / "short.index", test_header()), hoprag::error);
    bytes[bytes.size() - 50] = static_cast<char>(bytes[bytes.size() - 50] ^ 0x5a);
    std::ofstream(dir / "damaged.index", std::ios::binary) << bytes;
    try {
        faiss_index<ivf_flat>::load(dir / "damaged.index", test_header());
        FAIL("a damaged file was accepted");
    } catch (const format_error& e) {
        CHECK_THAT(e.what(), Catch::Contains("checksum"));
    }
}

TEST_CASE("faiss_index: retriever<Encoder, faiss_index> returns the passages' own vectors first", "[faiss]") {
    struct fixed_encoder {  // vector i of a fixed random set for the text "i"
        std::vector<float> vecs = unit_vectors(500, 41);
        std::vector<float> encode(std::span<const std::string> t) const {
            std::vector<float> out;
            for (const auto& s : t) {
                const auto i = std::stoll(s);
                out.insert(out.end(), vecs.begin() + i * dim, vecs.begin() + (i + 1) * dim);
            }
            return out;
        }
        std::vector<float> encode_passages(std::span<const std::string> t) { return encode(t); }
        std::vector<float> encode_queries(std::span<const std::string> t) { return encode(t); }
        std::int64_t dimension() const { return dim; }
        std::string model_id() const { return "fixed"; }
        static constexpr std::string_view pooling_name() { return "none"; }
        bool normalized() const { return true; }
    } enc;
    hoprag::context log;
    std::vector<data::passage> passages;
    for (int i = 0; i < 500; ++i) passages.push_back({.title = "t", .text = std::to_string(i)});
    using r_t = retriever<fixed_encoder, faiss_index<hnsw_flat>>;
    faiss_index<hnsw_flat> idx(r_t::header_for(enc, passages));
    r_t r(enc, idx, log);
    std::vector<std::string> q{"3", "77", "499"};
    for (int i = 0; i < 500; ++i) idx.add(enc.encode_passages(std::vector<std::string>{std::to_string(i)}));
    const auto hits = r.retrieve(q, 5);
    REQUIRE(hits.size() == 3);
    CHECK(hits[0][0].passage == 3);
    CHECK(hits[1][0].passage == 77);
    CHECK(hits[2][0].passage == 499);
    CHECK(hits[0][0].score == Approx(1.0).epsilon(1e-5));
}
