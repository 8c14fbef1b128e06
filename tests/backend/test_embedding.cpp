// CPU embedding lookup vs a plain gather, backward (scatter-add with repeated ids) against central
// differences of sum(dout * out) w.r.t. the table, accumulation onto an existing gradient, and
// out-of-range ids rejected with a shape_error naming the position and the id.
#include <catch2/catch.hpp>

#include <omp.h>

#include <cstdint>
#include <vector>

#include "hoprag/cpu/backend.hpp"
#include "support/reference.hpp"

using namespace hoprag;
using hoprag::test::numeric_gradient;
using hoprag::test::random_floats;
using hoprag::test::require_close;
using hoprag::test::to_double;

namespace {
std::vector<std::int32_t> random_ids(std::int64_t n, std::int64_t vocab, std::uint64_t seed) {
    const auto u = random_floats(n, seed, 0, 1);
    std::vector<std::int32_t> ids(n);
    for (std::int64_t i = 0; i < n; ++i) ids[i] = std::int32_t(u[i] * vocab) % std::int32_t(vocab);
    return ids;
}
}  // namespace

TEST_CASE("embedding forward gathers rows", "[embedding]") {
    cpu::context ctx;
    for (auto [n, dim, vocab] : std::vector<std::tuple<std::int64_t, std::int64_t, std::int64_t>>{
             {1, 1, 1}, {3, 3, 2}, {17, 5, 11}, {100, 130, 7}}) {
        const auto table = random_floats(vocab * dim, 1);
        const auto ids = random_ids(n, vocab, 2);
        std::vector<float> out(n * dim);
        cpu::embedding_forward(ctx, out.data(), ids.data(), table.data(), n, dim, vocab);
        std::vector<float> want(n * dim);
        for (std::int64_t i = 0; i < n; ++i)
            for (std::int64_t d = 0; d < dim; ++d) want[i * dim + d] = table[ids[i] * dim + d];
        REQUIRE(out == want);
    }
}

TEST_CASE("embedding backward scatter-adds and accumulates", "[embedding]") {
    cpu::context ctx;
    for (auto [n, dim, vocab] : std::vector<std::tuple<std::int64_t, std::int64_t, std::int64_t>>{
             {1, 1, 1}, {6, 3, 2}, {17, 5, 4}, {40, 70, 9}}) {
        INFO("n " << n << " dim " << dim << " vocab " << vocab);
        const auto table = random_floats(vocab * dim, 3);
        const auto ids = random_ids(n, vocab, 4);  // more ids than rows: repeats
        const auto dout = random_floats(n * dim, 5);
        auto dtable = random_floats(vocab * dim, 6);
        const auto dtable0 = dtable;
        cpu::embedding_backward(ctx, dtable.data(), ids.data(), dout.data(), n, dim, vocab);
        const auto g = numeric_gradient(to_double(table), [&](const std::vector<double>& t) {
            double l = 0;
            for (std::int64_t i = 0; i < n; ++i)
                for (std::int64_t d = 0; d < dim; ++d) l += dout[i * dim + d] * t[ids[i] * dim + d];
            return l;
        });
        std::vector<double> want(g.size());
        for (std::size_t i = 0; i < g.size(); ++i) want[i] = dtable0[i] + g[i];
        require_close(dtable, want, 1e-5, 1e-5, "dtable");
    }
}

TEST_CASE("embedding rejects ids outside the table", "[embedding]") {
    cpu::context ctx;
    const auto table = random_floats(4 * 2, 7);
    std::vector<float> out(3 * 2), dtable(4 * 2);
    std::vector<std::int32_t> ids{0, 3, 4};
    CHECK_THROWS_WITH(cpu::embedding_forward(ctx, out.data(), ids.data(), table.data(), 3, 2, 4),
                      Catch::Contains("id 4 at position 2"));
    ids[2] = -1;
    CHECK_THROWS_AS(cpu::embedding_forward(ctx, out.data(), ids.data(), table.data(), 3, 2, 4), shape_error);
    CHECK_THROWS_AS(cpu::embedding_backward(ctx, dtable.data(), ids.data(), out.data(), 3, 2, 4), shape_error);
    for (float v : dtable) CHECK(v == 0.0f);  // nothing written before the error
}

TEST_CASE("embedding backward and sum_rows do not depend on the thread count", "[embedding]") {
    cpu::context ctx;
    const std::int64_t n = 257, dim = 300, vocab = 5;  // many repeats of few ids, several column blocks
    const auto ids = random_ids(n, vocab, 8);
    const auto dout = random_floats(n * dim, 9, -100, 100);
    const int keep = omp_get_max_threads();
    std::vector<std::vector<float>> tables, sums;
    for (int threads : {1, 3, 4}) {
        omp_set_num_threads(threads);
        std::vector<float> dtable(vocab * dim, 0.5f), colsum(dim, 0.25f);
        cpu::embedding_backward(ctx, dtable.data(), ids.data(), dout.data(), n, dim, vocab);
        cpu::sum_rows(ctx, colsum.data(), dout.data(), n, dim);
        tables.push_back(dtable);
        sums.push_back(colsum);
    }
    omp_set_num_threads(keep);
    CHECK(tables[0] == tables[1]);
    CHECK(tables[0] == tables[2]);
    CHECK(sums[0] == sums[1]);
    CHECK(sums[0] == sums[2]);
}
