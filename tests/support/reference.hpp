// Test support: random inputs, float64 comparisons and finite-difference gradient checks.
// Every op test compares the backend's f32 result with a float64 reference written plainly in the
// test, and every backward with central differences of a float64 scalar loss.
#pragma once

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "hoprag/core/rng.hpp"

namespace hoprag::test {

/// n floats uniform in [lo, hi) from stream `stream` of `seed` (reproducible, backend-independent).
inline std::vector<float> random_floats(std::size_t n, std::uint64_t seed, float lo = -1.0f, float hi = 1.0f,
                                        std::uint64_t stream = 0) {
    const philox_stream s{seed, stream};
    std::vector<float> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = lo + (hi - lo) * s.uniform(i);
    return v;
}

inline std::vector<double> to_double(const std::vector<float>& v) { return {v.begin(), v.end()}; }

/// max_i |a_i - b_i| / (atol + rtol * |b_i|) <= 1, with the worst element reported on failure.
inline void require_close(const std::vector<float>& got, const std::vector<double>& want, double rtol, double atol,
                          const std::string& what = "") {
    REQUIRE(got.size() == want.size());
    double worst = 0.0;
    std::size_t at = 0;
    for (std::size_t i = 0; i < got.size(); ++i) {
        if (!std::isfinite(got[i]) && std::isfinite(want[i])) {
            worst = INFINITY;
            at = i;
            break;
        }
        const double e = std::abs(double(got[i]) - want[i]) / (atol + rtol * std::abs(want[i]));
        if (e > worst) {
            worst = e;
            at = i;
        }
    }
    INFO(what << " worst element " << at << ": got " << (got.empty() ? 0.0 : got[at]) << " want "
              << (want.empty() ? 0.0 : want[at]) << " (error " << worst << " x tolerance)");
    REQUIRE(worst <= 1.0);
}

inline void require_close(const std::vector<float>& got, const std::vector<float>& want, double rtol, double atol,
                          const std::string& what = "") {
    require_close(got, to_double(want), rtol, atol, what);
}

/// Central-difference gradient of a scalar function of x, in float64: d loss / d x_i.
inline std::vector<double> numeric_gradient(std::vector<double> x, const std::function<double(const std::vector<double>&)>& loss,
                                            double h = 1e-5) {
    std::vector<double> g(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double keep = x[i];
        x[i] = keep + h;
        const double up = loss(x);
        x[i] = keep - h;
        const double down = loss(x);
        x[i] = keep;
        g[i] = (up - down) / (2 * h);
    }
    return g;
}

/// Source and build folders, for golden files, models and helper programs: $HOPRAG_SOURCE_DIR and
/// $HOPRAG_BINARY_DIR when set (a test binary carried to another machine, as scripts/device-check
/// does), else the folders it was built from.
inline std::string source_dir() {
    const char* env = std::getenv("HOPRAG_SOURCE_DIR");
    return env && *env ? env : HOPRAG_SOURCE_DIR;
}
inline std::string binary_dir() {
    const char* env = std::getenv("HOPRAG_BINARY_DIR");
    return env && *env ? env : HOPRAG_BINARY_DIR;
}

}  // namespace hoprag::test
