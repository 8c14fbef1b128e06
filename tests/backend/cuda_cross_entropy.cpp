// CUDA softmax cross-entropy parity vs the CPU backend (vocab up to 49152, ignored rows), and the
// documented device-side behaviour for an invalid target: loss NaN instead of an exception.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <vector>

#include "hoprag/backend/buffer.hpp"
#include "hoprag/cpu/backend.hpp"
#include "hoprag/cuda/backend.hpp"
#include "support/reference.hpp"

using namespace hoprag;
using test::random_floats;
using test::require_close;

namespace {
template <class T>
using dbuf = buffer<cuda::context, T>;
}

TEST_CASE("cuda cross_entropy matches cpu", "[cuda][cross_entropy]") {
    cpu::context c;
    cuda::context g;
    const std::int32_t ignore = -100;
    for (auto [rows, vocab] :
         std::vector<std::pair<std::int64_t, std::int64_t>>{{1, 1}, {3, 17}, {64, 1000}, {5, 49152}}) {
        INFO("rows " << rows << " vocab " << vocab);
        const auto x = random_floats(rows * vocab, 1, -10, 10);
        const auto u = random_floats(rows, 2, 0, 1);
        std::vector<std::int32_t> t(rows);
        for (std::int64_t r = 0; r < rows; ++r) t[r] = std::int32_t(u[r] * vocab) % std::int32_t(vocab);
        if (rows > 1) t[1] = ignore;
        std::vector<float> loss(rows), lse(rows), dx(rows * vocab);
        cpu::cross_entropy_forward(c, loss.data(), lse.data(), x.data(), t.data(), rows, vocab, ignore);
        cpu::cross_entropy_backward(c, dx.data(), x.data(), lse.data(), t.data(), 0.25f, rows, vocab, ignore);
        dbuf<float> gx(g, x), gloss(g, rows), glse(g, rows), gdx(g, rows * vocab);
        dbuf<std::int32_t> gt(g, t);
        cuda::cross_entropy_forward(g, gloss.data(), glse.data(), gx.data(), gt.data(), rows, vocab, ignore);
        cuda::cross_entropy_backward(g, gdx.data(), gx.data(), glse.data(), gt.data(), 0.25f, rows, vocab, ignore);
        require_close(gloss.to_host(), loss, 1e-5, 1e-5, "loss");
        require_close(glse.to_host(), lse, 1e-5, 1e-5, "lse");
        require_close(gdx.to_host(), dx, 1e-4, 1e-8, "dlogits");
    }
}

TEST_CASE("cuda cross_entropy gives NaN loss for an invalid target", "[cuda][cross_entropy]") {
    cuda::context g;
    const auto x = random_floats(2 * 5, 3);
    dbuf<float> gx(g, x), gloss(g, 2), glse(g, 2);
    dbuf<std::int32_t> gt(g, std::vector<std::int32_t>{2, 7});
    cuda::cross_entropy_forward(g, gloss.data(), glse.data(), gx.data(), gt.data(), 2, 5, -100);
    const auto loss = gloss.to_host();
    CHECK(std::isfinite(loss[0]));
    CHECK(std::isnan(loss[1]));
}
