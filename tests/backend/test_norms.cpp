// CPU LayerNorm and RMSNorm vs float64 references on random inputs of odd and tiny sizes; backward
// (dx, dw, db) against central differences of the float64 forward with loss = sum(dout * out), and
// parameter gradients checked to accumulate onto what was already there.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "hoprag/cpu/backend.hpp"
#include "support/reference.hpp"

using namespace hoprag;
using hoprag::test::numeric_gradient;
using hoprag::test::random_floats;
using hoprag::test::require_close;
using hoprag::test::to_double;

namespace {

using sizes = std::vector<std::pair<std::int64_t, std::int64_t>>;

// out [rows, cols] of LayerNorm in float64; w or b empty = no affine part
std::vector<double> layernorm_ref(const std::vector<double>& x, const std::vector<double>& w,
                                  const std::vector<double>& b, std::int64_t rows, std::int64_t cols, double eps) {
    std::vector<double> out(x.size());
    for (std::int64_t r = 0; r < rows; ++r) {
        double mean = 0, var = 0;
        for (std::int64_t c = 0; c < cols; ++c) mean += x[r * cols + c];
        mean /= cols;
        for (std::int64_t c = 0; c < cols; ++c) var += (x[r * cols + c] - mean) * (x[r * cols + c] - mean);
        var /= cols;
        for (std::int64_t c = 0; c < cols; ++c) {
            const double y = (x[r * cols + c] - mean) / std::sqrt(var + eps);
            out[r * cols + c] = y * (w.empty() ? 1.0 : w[c]) + (b.empty() ? 0.0 : b[c]);
        }
    }
    return out;
}

std::vector<double> rmsnorm_ref(const std::vector<double>& x, const std::vector<double>& w, std::int64_t rows,
                                std::int64_t cols, double eps) {
    std::vector<double> out(x.size());
    for (std::int64_t r = 0; r < rows; ++r) {
        double ms = 0;
        for (std::int64_t c = 0; c < cols; ++c) ms += x[r * cols + c] * x[r * cols + c];
        const double k = 1.0 / std::sqrt(ms / cols + eps);
        for (std::int64_t c = 0; c < cols; ++c) out[r * cols + c] = x[r * cols + c] * k * (w.empty() ? 1.0 : w[c]);
    }
    return out;
}

double dot(const std::vector<float>& a, const std::vector<double>& b) {
    double s = 0;
    for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
    return s;
}

std::vector<double> plus(const std::vector<float>& a, const std::vector<double>& b) {
    std::vector<double> r(a.size());
    for (std::size_t i = 0; i < a.size(); ++i) r[i] = a[i] + b[i];
    return r;
}

}  // namespace

TEST_CASE("layernorm forward matches float64", "[norms]") {
    cpu::context ctx;
    const float eps = 1e-5f;
    for (auto [rows, cols] : sizes{{1, 1}, {1, 3}, {4, 17}, {3, 1000}, {37, 64}}) {
        INFO("rows " << rows << " cols " << cols);
        const auto x = random_floats(rows * cols, 1, -2, 3), w = random_floats(cols, 2), b = random_floats(cols, 3);
        std::vector<float> out(rows * cols), mean(rows), rstd(rows);
        cpu::layernorm_forward(ctx, out.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), rows, cols,
                               eps);
        require_close(out, layernorm_ref(to_double(x), to_double(w), to_double(b), rows, cols, eps), 1e-4, 1e-5, "out");
        std::vector<double> want_mean(rows), want_rstd(rows);
        for (std::int64_t r = 0; r < rows; ++r) {
            double m = 0, v = 0;
            for (std::int64_t c = 0; c < cols; ++c) m += x[r * cols + c];
            m /= cols;
            for (std::int64_t c = 0; c < cols; ++c) v += (x[r * cols + c] - m) * (x[r * cols + c] - m);
            want_mean[r] = m;
            want_rstd[r] = 1.0 / std::sqrt(v / cols + eps);
        }
        require_close(mean, want_mean, 1e-5, 1e-6, "mean");
        require_close(rstd, want_rstd, 1e-4, 1e-6, "rstd");
        // no affine part
        cpu::layernorm_forward(ctx, out.data(), mean.data(), rstd.data(), x.data(), nullptr, nullptr, rows, cols, eps);
        require_close(out, layernorm_ref(to_double(x), {}, {}, rows, cols, eps), 1e-4, 1e-5, "out without affine");
    }
    std::vector<float> v(3);
    CHECK_THROWS_AS(cpu::layernorm_forward(ctx, v.data(), v.data(), v.data(), v.data(), nullptr, nullptr, 1, 0, 1e-5f),
                    shape_error);
    CHECK_THROWS_WITH(cpu::layernorm_forward(ctx, v.data(), nullptr, v.data(), v.data(), nullptr, nullptr, 1, 3, 1e-5f),
                      Catch::Contains("mean is null"));
}

TEST_CASE("layernorm backward matches finite differences and accumulates dw, db", "[norms]") {
    cpu::context ctx;
    const float eps = 1e-5f;
    for (auto [rows, cols] : sizes{{1, 1}, {1, 3}, {3, 17}, {2, 40}}) {
        INFO("rows " << rows << " cols " << cols);
        const auto x = random_floats(rows * cols, 4, -2, 2), w = random_floats(cols, 5), b = random_floats(cols, 6);
        const auto dout = random_floats(rows * cols, 7);
        std::vector<float> out(rows * cols), mean(rows), rstd(rows), dx(rows * cols);
        auto dw = random_floats(cols, 8), db = random_floats(cols, 9);
        const auto dw0 = dw, db0 = db;
        cpu::layernorm_forward(ctx, out.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), rows, cols,
                               eps);
        cpu::layernorm_backward(ctx, dx.data(), dw.data(), db.data(), dout.data(), x.data(), w.data(), mean.data(),
                                rstd.data(), rows, cols);
        const auto xd = to_double(x), wd = to_double(w), bd = to_double(b);
        const auto gx = numeric_gradient(
            xd, [&](const std::vector<double>& v) { return dot(dout, layernorm_ref(v, wd, bd, rows, cols, eps)); });
        const auto gw = numeric_gradient(
            wd, [&](const std::vector<double>& v) { return dot(dout, layernorm_ref(xd, v, bd, rows, cols, eps)); });
        const auto gb = numeric_gradient(
            bd, [&](const std::vector<double>& v) { return dot(dout, layernorm_ref(xd, wd, v, rows, cols, eps)); });
        // cols == 1 normalises every row to 0: dx is 0 up to the eps term
        require_close(dx, gx, 1e-3, 1e-4, "dx");
        require_close(dw, plus(dw0, gw), 1e-4, 1e-5, "dw (accumulated)");
        require_close(db, plus(db0, gb), 1e-4, 1e-5, "db (accumulated)");
        // without affine parameters (w = 1, b = 0, no parameter gradients)
        cpu::layernorm_forward(ctx, out.data(), mean.data(), rstd.data(), x.data(), nullptr, nullptr, rows, cols, eps);
        cpu::layernorm_backward(ctx, dx.data(), nullptr, nullptr, dout.data(), x.data(), nullptr, mean.data(),
                                rstd.data(), rows, cols);
        const auto gx1 = numeric_gradient(
            xd, [&](const std::vector<double>& v) { return dot(dout, layernorm_ref(v, {}, {}, rows, cols, eps)); });
        require_close(dx, gx1, 1e-3, 1e-4, "dx without affine");
    }
}

TEST_CASE("rmsnorm forward matches float64", "[norms]") {
    cpu::context ctx;
    const float eps = 1e-6f;
    for (auto [rows, cols] : sizes{{1, 1}, {1, 3}, {4, 17}, {3, 1000}, {37, 64}}) {
        INFO("rows " << rows << " cols " << cols);
        const auto x = random_floats(rows * cols, 10, -2, 3), w = random_floats(cols, 11);
        std::vector<float> out(rows * cols), rstd(rows);
        cpu::rmsnorm_forward(ctx, out.data(), rstd.data(), x.data(), w.data(), rows, cols, eps);
        require_close(out, rmsnorm_ref(to_double(x), to_double(w), rows, cols, eps), 1e-4, 1e-6, "out");
        std::vector<double> want_rstd(rows);
        for (std::int64_t r = 0; r < rows; ++r) {
            double ms = 0;
            for (std::int64_t c = 0; c < cols; ++c) ms += double(x[r * cols + c]) * x[r * cols + c];
            want_rstd[r] = 1.0 / std::sqrt(ms / cols + eps);
        }
        require_close(rstd, want_rstd, 1e-4, 1e-6, "rstd");
        cpu::rmsnorm_forward(ctx, out.data(), rstd.data(), x.data(), nullptr, rows, cols, eps);
        require_close(out, rmsnorm_ref(to_double(x), {}, rows, cols, eps), 1e-4, 1e-6, "out without weight");
    }
}

TEST_CASE("rmsnorm backward matches finite differences and accumulates dw", "[norms]") {
    cpu::context ctx;
    const float eps = 1e-6f;
    for (auto [rows, cols] : sizes{{1, 1}, {1, 3}, {3, 17}, {2, 40}}) {
        INFO("rows " << rows << " cols " << cols);
        const auto x = random_floats(rows * cols, 12, -2, 2), w = random_floats(cols, 13),
                   dout = random_floats(rows * cols, 14);
        std::vector<float> out(rows * cols), rstd(rows), dx(rows * cols);
        auto dw = random_floats(cols, 15);
        const auto dw0 = dw;
        cpu::rmsnorm_forward(ctx, out.data(), rstd.data(), x.data(), w.data(), rows, cols, eps);
        cpu::rmsnorm_backward(ctx, dx.data(), dw.data(), dout.data(), x.data(), w.data(), rstd.data(), rows, cols);
        const auto xd = to_double(x), wd = to_double(w);
        const auto gx = numeric_gradient(
            xd, [&](const std::vector<double>& v) { return dot(dout, rmsnorm_ref(v, wd, rows, cols, eps)); });
        const auto gw = numeric_gradient(
            wd, [&](const std::vector<double>& v) { return dot(dout, rmsnorm_ref(xd, v, rows, cols, eps)); });
        require_close(dx, gx, 1e-3, 1e-4, "dx");
        require_close(dw, plus(dw0, gw), 1e-4, 1e-5, "dw (accumulated)");
    }
}

TEST_CASE("residual_layernorm_forward = LayerNorm((x + bias) + residual), sum stored in x", "[norms]") {
    cpu::context ctx;
    const float eps = 1e-5f;
    for (auto [rows, cols] : sizes{{1, 1}, {4, 17}, {37, 384}}) {
        INFO("rows " << rows << " cols " << cols);
        const auto x0 = random_floats(rows * cols, 11, -2, 3), res = random_floats(rows * cols, 12),
                   bias = random_floats(cols, 13), w = random_floats(cols, 14), b = random_floats(cols, 15);
        for (bool with_bias : {true, false}) {
            std::vector<float> x = x0, out(rows * cols), mean(rows), rstd(rows);
            std::vector<double> sum(x0.size());
            for (std::int64_t r = 0; r < rows; ++r)
                for (std::int64_t c = 0; c < cols; ++c)
                    sum[r * cols + c] = double(x0[r * cols + c]) + (with_bias ? bias[c] : 0.0) + res[r * cols + c];
            cpu::residual_layernorm_forward(ctx, out.data(), mean.data(), rstd.data(), x.data(), res.data(),
                                            with_bias ? bias.data() : nullptr, w.data(), b.data(), rows, cols, eps);
            require_close(x, sum, 1e-6, 1e-6, "stored sum");
            require_close(out, layernorm_ref(sum, to_double(w), to_double(b), rows, cols, eps), 1e-4, 1e-5, "out");
        }
    }
}
