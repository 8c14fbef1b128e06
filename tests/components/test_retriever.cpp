// Flat inner-product index and Retriever<Encoder, Index>: search vs a float64 brute-force
// reference (f32 and bf16 storage, odd sizes, k clamping, query blocks), durable save/load round
// trip, refusal of indexes built for another model or corpus or storage, and the retriever's
// plumbing with a small deterministic encoder (the BERT encoder itself is tested in tests/models).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <string>
#include <vector>

#include <unistd.h>

#include "hoprag/components/retriever.hpp"
#include "hoprag/cpu/backend.hpp"
#include "support/reference.hpp"

using namespace hoprag;
using namespace hoprag::components;

namespace {

index_header test_header(std::int64_t dim) { return {"test-model", dim, "mean", true, "0123456789abcdef"}; }

/// Reference top-k by float64 inner products over the given (already rounded) values.
void check_search(const search_result& r, const std::vector<double>& base, const std::vector<double>& queries,
                  std::int64_t dim, std::int64_t k, double tol) {
    const std::int64_t n = static_cast<std::int64_t>(base.size()) / dim, nq = static_cast<std::int64_t>(queries.size()) / dim;
    REQUIRE(r.queries == nq);
    REQUIRE(r.k == std::min(k, n));
    for (std::int64_t q = 0; q < nq; ++q) {
        std::vector<double> s(static_cast<std::size_t>(n));
        for (std::int64_t i = 0; i < n; ++i)
            for (std::int64_t c = 0; c < dim; ++c) s[i] += queries[q * dim + c] * base[i * dim + c];
        std::vector<std::int32_t> order(static_cast<std::size_t>(n));
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return s[a] > s[b]; });
        for (std::int64_t j = 0; j < r.k; ++j) {
            INFO("query " << q << " rank " << j);
            const auto got = r.ids[q * r.k + j];
            CHECK(std::abs(r.scores[q * r.k + j] - s[order[j]]) <= tol);  // rank j has the j-th best score
            CHECK(std::abs(double(r.scores[q * r.k + j]) - s[got]) <= tol);  // and the id's score is that score
        }
    }
}

std::vector<double> rounded(const std::vector<float>& v, bool to_bf16) {
    std::vector<double> out;
    for (const float x : v) out.push_back(to_bf16 ? double(bf16::from_float(x).to_float()) : double(x));
    return out;
}

struct letter_encoder {  // counts of a..z, L2-normalised: tiny, deterministic, no model needed
    std::vector<float> encode(std::span<const std::string> texts) const {
        std::vector<float> out;
        for (const auto& t : texts) {
            std::vector<float> v(26, 0.0f);
            for (const char ch : t)
                if (ch >= 'a' && ch <= 'z') v[ch - 'a'] += 1;
            double n = 0;
            for (const float x : v) n += double(x) * x;
            for (float& x : v) out.push_back(n > 0 ? float(x / std::sqrt(n)) : 0.0f);
        }
        return out;
    }
    std::vector<float> encode_passages(std::span<const std::string> t) { return encode(t); }
    std::vector<float> encode_queries(std::span<const std::string> t) { return encode(t); }
    std::int64_t dimension() const { return 26; }
    std::string model_id() const { return "letters"; }
    static constexpr std::string_view pooling_name() { return "none"; }
    bool normalized() const { return true; }
};

}  // namespace

static_assert(retrieval_encoder<letter_encoder>);
static_assert(!retrieval_encoder<int>, "a type without the encoder functions must not satisfy the concept");
static_assert(dense_index<flat_index<cpu::context>>);
static_assert(!dense_index<letter_encoder>);

TEST_CASE("flat index search matches a float64 reference", "[index]") {
    cpu::context ctx;
    struct shape_case {
        std::int64_t n, dim, queries, k, budget;
    };
    for (const auto [n, dim, nq, k, budget] :
         {shape_case{1, 1, 1, 1, 1 << 20}, {37, 5, 3, 4, 1 << 20}, {37, 5, 7, 100, 40}, {300, 64, 9, 17, 1000}}) {
        INFO("n " << n << " dim " << dim << " queries " << nq << " k " << k);
        const auto base = test::random_floats(static_cast<std::size_t>(n * dim), 11);
        const auto queries = test::random_floats(static_cast<std::size_t>(nq * dim), 12);
        flat_index<cpu::context> f(ctx, test_header(dim));
        f.add(std::span(base).subspan(0, static_cast<std::size_t>((n / 2) * dim)));  // two adds
        f.add(std::span(base).subspan(static_cast<std::size_t>((n / 2) * dim)));
        REQUIRE(f.size() == n);
        check_search(f.search(queries, k, budget), rounded(base, false), rounded(queries, false), dim, k, 1e-5);
        flat_index<cpu::context, bf16_storage> h(ctx, test_header(dim));
        h.add(base);
        check_search(h.search(queries, k, budget), rounded(base, true), rounded(queries, true), dim, k, 1e-4);
    }
    flat_index<cpu::context> f(ctx, test_header(4));
    CHECK_THROWS_AS(f.add(std::vector<float>(5)), shape_error);
    f.add(std::vector<float>(8, 1.0f));
    CHECK_THROWS_AS(f.search(std::vector<float>(3), 1), shape_error);
    CHECK(f.search(std::vector<float>(4, 1.0f), 0).ids.empty());
}

TEST_CASE("flat index round-trips through a file and refuses a mismatching one", "[index]") {
    cpu::context ctx;
    const auto dir = std::filesystem::temp_directory_path() / ("hoprag_index_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto path = dir / "corpus.index";
    const auto base = test::random_floats(50 * 8, 21), queries = test::random_floats(3 * 8, 22);
    flat_index<cpu::context> f(ctx, test_header(8));
    f.add(base);
    f.save(path);
    REQUIRE(std::filesystem::exists(path));
    CHECK(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator{}) == 1);  // no temp left
    auto g = flat_index<cpu::context>::load(ctx, path, test_header(8));
    CHECK(g.vectors() == f.vectors());
    const auto a = f.search(queries, 5), b = g.search(queries, 5);
    CHECK(a.ids == b.ids);
    CHECK(a.scores == b.scores);

    auto other = test_header(8);
    other.model = "bge-small-en-v1.5";
    other.corpus_hash = "ffffffffffffffff";
    CHECK_THROWS_WITH(flat_index<cpu::context>::load(ctx, path, other),
                      Catch::Contains("model is \"test-model\", expected \"bge-small-en-v1.5\"") &&
                          Catch::Contains("corpus_hash") && Catch::Contains("rebuild"));
    other = test_header(8);
    other.pooling = "cls";
    CHECK_THROWS_AS(flat_index<cpu::context>::load(ctx, path, other), config_error);
    CHECK_THROWS_WITH((flat_index<cpu::context, bf16_storage>::load(ctx, path, test_header(8))), Catch::Contains("F32"));
    // a safetensors file that is not an index
    const std::vector<float> x(4);
    shape dims{4};
    const io::safetensors_entry e{"x", io::st_dtype::f32, dims, std::as_bytes(std::span(x))};
    io::write_safetensors(dir / "other.safetensors", std::span(&e, 1));
    CHECK_THROWS_AS(flat_index<cpu::context>::load(ctx, dir / "other.safetensors", test_header(8)), format_error);
    CHECK_THROWS_AS(flat_index<cpu::context>::load(ctx, dir / "missing", test_header(8)), io_error);
    std::filesystem::remove_all(dir);
}

TEST_CASE("retriever encodes a corpus and returns ranked passages", "[retriever]") {
    cpu::context ctx;
    std::vector<std::string> lines;
    hoprag::context log(0, [&](log_level, std::string_view m) { lines.emplace_back(m); });
    const std::vector<data::passage> corpus{{.title = "zebra", .text = "zzz zebra buzz"}, {.title = "apple", .text = "an apple a day"},
                                            {.title = "moon", .text = "moon room boom"},  {.title = "kiwi", .text = "kiwi wiki"},
                                            {.title = "lemon", .text = "lemon melon"}};
    letter_encoder enc;
    using R = retriever<letter_encoder, flat_index<cpu::context>>;
    const auto header = R::header_for(enc, corpus);
    CHECK(header.model == "letters");
    CHECK(header.dimension == 26);
    auto reordered = corpus;
    std::swap(reordered[0], reordered[1]);
    CHECK(R::header_for(enc, reordered).corpus_hash != header.corpus_hash);
    flat_index<cpu::context> index(ctx, header);
    R r(enc, index, log);
    CHECK(r.add_passages(corpus, 2) > 0);
    CHECK(index.size() == 5);
    CHECK(lines.size() == 3);  // one progress line per chunk of 2
    CHECK(lines.back().find("5/5 passages") != std::string::npos);
    std::vector<std::string> questions;
    for (const auto& p : corpus) questions.push_back(data::passage_text(p));
    const auto hits = r.retrieve(questions, 3, 2);
    REQUIRE(hits.size() == 5);
    for (std::size_t i = 0; i < hits.size(); ++i) {
        REQUIRE(hits[i].size() == 3);
        CHECK(hits[i][0].passage == static_cast<std::int32_t>(i));  // a passage's own text ranks first
        CHECK(hits[i][0].score == Approx(1.0).epsilon(1e-5));
        CHECK(hits[i][0].score >= hits[i][1].score);
        CHECK(hits[i][1].score >= hits[i][2].score);
    }
    CHECK(r.retrieve(questions, 200).front().size() == 5);  // k clamps to the corpus
}
