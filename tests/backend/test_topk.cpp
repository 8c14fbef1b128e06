// CPU top-k per row vs a float64 stable sort (descending, ties to the lower index), including many
// ties, NaNs (ranked last), k = 0, k = cols and k > cols (shape_error).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include "hoprag/cpu/backend.hpp"
#include "support/reference.hpp"

using namespace hoprag;
using hoprag::test::random_floats;

namespace {

// reference: stable sort of the column indices by value, descending, NaN last
void topk_ref(const std::vector<float>& x, std::int64_t rows, std::int64_t cols, std::int64_t k,
              std::vector<float>& values, std::vector<std::int32_t>& indices) {
    values.assign(rows * k, 0);
    indices.assign(rows * k, 0);
    for (std::int64_t r = 0; r < rows; ++r) {
        std::vector<std::int32_t> idx(cols);
        std::iota(idx.begin(), idx.end(), 0);
        const float* row = x.data() + r * cols;
        std::stable_sort(idx.begin(), idx.end(), [&](std::int32_t a, std::int32_t b) {
            const double va = row[a], vb = row[b];
            if (std::isnan(va) || std::isnan(vb)) return !std::isnan(va) && std::isnan(vb);
            return va > vb;
        });
        for (std::int64_t j = 0; j < k; ++j) {
            values[r * k + j] = row[idx[j]];
            indices[r * k + j] = idx[j];
        }
    }
}

void check_same(const std::vector<float>& got_v, const std::vector<std::int32_t>& got_i,
                const std::vector<float>& want_v, const std::vector<std::int32_t>& want_i) {
    REQUIRE(got_i == want_i);
    for (std::size_t j = 0; j < got_v.size(); ++j) {
        if (std::isnan(want_v[j]))
            REQUIRE(std::isnan(got_v[j]));
        else
            REQUIRE(got_v[j] == want_v[j]);
    }
}

}  // namespace

TEST_CASE("topk matches a stable descending sort", "[topk]") {
    cpu::context ctx;
    for (auto [rows, cols, k] : std::vector<std::tuple<std::int64_t, std::int64_t, std::int64_t>>{
             {1, 1, 1}, {1, 3, 2}, {4, 17, 5}, {3, 1000, 200}, {2, 1000, 1000}, {5, 9, 0}}) {
        INFO("rows " << rows << " cols " << cols << " k " << k);
        auto x = random_floats(rows * cols, 1, -1, 1);
        std::vector<float> v(rows * k);
        std::vector<std::int32_t> i(rows * k);
        std::vector<float> wv;
        std::vector<std::int32_t> wi;
        cpu::topk(ctx, v.data(), i.data(), x.data(), rows, cols, k);
        topk_ref(x, rows, cols, k, wv, wi);
        check_same(v, i, wv, wi);
        // heavy ties: values quantised to 4 levels
        for (float& e : x) e = std::floor(e * 2.0f);
        cpu::topk(ctx, v.data(), i.data(), x.data(), rows, cols, k);
        topk_ref(x, rows, cols, k, wv, wi);
        check_same(v, i, wv, wi);
    }
}

TEST_CASE("topk ranks NaN last and checks k", "[topk]") {
    cpu::context ctx;
    const std::vector<float> x{NAN, 1.0f, -INFINITY, NAN, 2.0f, 1.0f};
    std::vector<float> v(6);
    std::vector<std::int32_t> i(6);
    cpu::topk(ctx, v.data(), i.data(), x.data(), 1, 6, 6);
    CHECK(i == std::vector<std::int32_t>{4, 1, 5, 2, 0, 3});
    CHECK(v[0] == 2.0f);
    CHECK(std::isnan(v[4]));
    CHECK_THROWS_AS(cpu::topk(ctx, v.data(), i.data(), x.data(), 1, 6, 7), shape_error);
    CHECK_THROWS_AS(cpu::topk(ctx, v.data(), i.data(), x.data(), 1, 6, -1), shape_error);
}
