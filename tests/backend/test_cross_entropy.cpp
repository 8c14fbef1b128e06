// CPU softmax cross-entropy vs a float64 reference (small and 49152-wide vocabularies, ignored
// rows, extreme logits); backward against central differences of grad_scale * sum(loss); invalid
// targets rejected with a shape_error.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
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

// per-row loss in float64 (0 for ignored rows) and per-row logsumexp
void ce_ref(const std::vector<double>& x, const std::vector<std::int32_t>& t, std::int64_t rows, std::int64_t vocab,
            std::int32_t ignore, std::vector<double>& loss, std::vector<double>& lse) {
    loss.assign(rows, 0.0);
    lse.assign(rows, 0.0);
    for (std::int64_t r = 0; r < rows; ++r) {
        double m = -INFINITY;
        for (std::int64_t c = 0; c < vocab; ++c) m = std::max(m, x[r * vocab + c]);
        double s = 0;
        for (std::int64_t c = 0; c < vocab; ++c) s += std::exp(x[r * vocab + c] - m);
        lse[r] = m + std::log(s);
        loss[r] = t[r] == ignore ? 0.0 : lse[r] - x[r * vocab + t[r]];
    }
}

std::vector<std::int32_t> random_targets(std::int64_t rows, std::int64_t vocab, std::uint64_t seed) {
    const auto u = random_floats(rows, seed, 0, 1);
    std::vector<std::int32_t> t(rows);
    for (std::int64_t r = 0; r < rows; ++r)
        t[r] = std::min<std::int32_t>(std::int32_t(u[r] * vocab), std::int32_t(vocab - 1));
    return t;
}

}  // namespace

TEST_CASE("cross_entropy forward matches float64", "[cross_entropy]") {
    cpu::context ctx;
    const std::int32_t ignore = -100;
    for (auto [rows, vocab] :
         std::vector<std::pair<std::int64_t, std::int64_t>>{{1, 1}, {1, 3}, {5, 17}, {4, 1000}, {2, 49152}}) {
        INFO("rows " << rows << " vocab " << vocab);
        auto x = random_floats(rows * vocab, 1, -8, 8);
        auto t = random_targets(rows, vocab, 2);
        if (rows > 2) t[1] = ignore;
        if (rows > 3) x[3 * vocab] = 1e4f;  // an extreme logit must not overflow
        std::vector<float> loss(rows), lse(rows);
        cpu::cross_entropy_forward(ctx, loss.data(), lse.data(), x.data(), t.data(), rows, vocab, ignore);
        std::vector<double> want_loss, want_lse;
        ce_ref(to_double(x), t, rows, vocab, ignore, want_loss, want_lse);
        require_close(loss, want_loss, 1e-4, 1e-4, "loss");
        require_close(lse, want_lse, 1e-5, 1e-5, "lse");
        if (rows > 2) CHECK(loss[1] == 0.0f);
    }
}

TEST_CASE("cross_entropy backward matches finite differences, and ignored rows get zero gradient", "[cross_entropy]") {
    cpu::context ctx;
    const std::int32_t ignore = -1;
    const float grad_scale = 0.3f;
    for (auto [rows, vocab] : std::vector<std::pair<std::int64_t, std::int64_t>>{{1, 1}, {1, 3}, {4, 17}, {3, 50}}) {
        INFO("rows " << rows << " vocab " << vocab);
        const auto x = random_floats(rows * vocab, 3, -4, 4);
        auto t = random_targets(rows, vocab, 4);
        if (rows > 2) t[2] = ignore;
        std::vector<float> loss(rows), lse(rows), dx(rows * vocab, 123.0f);
        cpu::cross_entropy_forward(ctx, loss.data(), lse.data(), x.data(), t.data(), rows, vocab, ignore);
        cpu::cross_entropy_backward(ctx, dx.data(), x.data(), lse.data(), t.data(), grad_scale, rows, vocab, ignore);
        const auto g = numeric_gradient(to_double(x), [&](const std::vector<double>& v) {
            std::vector<double> l, s;
            ce_ref(v, t, rows, vocab, ignore, l, s);
            double sum = 0;
            for (double e : l) sum += grad_scale * e;
            return sum;
        });
        require_close(dx, g, 1e-4, 1e-6, "dlogits");
        if (rows > 2)
            for (std::int64_t c = 0; c < vocab; ++c) REQUIRE(dx[2 * vocab + c] == 0.0f);
    }
}

TEST_CASE("cross_entropy rejects targets outside the vocabulary", "[cross_entropy]") {
    cpu::context ctx;
    const auto x = random_floats(2 * 5, 5);
    std::vector<float> loss(2), lse(2), dx(10);
    std::vector<std::int32_t> t{1, 5};
    CHECK_THROWS_AS(cpu::cross_entropy_forward(ctx, loss.data(), lse.data(), x.data(), t.data(), 2, 5, -100),
                    shape_error);
    CHECK_THROWS_WITH(cpu::cross_entropy_backward(ctx, dx.data(), x.data(), lse.data(), t.data(), 1.0f, 2, 5, -100),
                      Catch::Contains("target 5 of row 1"));
    t[1] = -100;
    CHECK_NOTHROW(cpu::cross_entropy_forward(ctx, loss.data(), lse.data(), x.data(), t.data(), 2, 5, -100));
}
