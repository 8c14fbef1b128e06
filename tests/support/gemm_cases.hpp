// Test support for the GEMM op: the list of cases every backend runs (transposes, tiny and odd
// sizes, padded leading dimensions, strided batches, alpha/beta/bias, bf16/f16 inputs and
// outputs), random inputs rounded to their storage type, and a float64 reference computed on the
// rounded inputs over the whole C storage (so writes into padding are caught too).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "hoprag/backend/ops.hpp"
#include "hoprag/core/dtype.hpp"
#include "support/reference.hpp"

namespace hoprag::test {

struct gemm_case {
    gemm_desc d;            // sizes, transposes, types, alpha/beta; ld/strides left 0 get padding below
    std::int64_t pad = 0;   // extra elements added to every leading dimension and batch stride
    bool bias = false;
    std::string name() const {
        return "m=" + std::to_string(d.m) + " n=" + std::to_string(d.n) + " k=" + std::to_string(d.k) +
               " ta=" + std::to_string(d.trans_a) + " tb=" + std::to_string(d.trans_b) + " batch=" + std::to_string(d.batch) +
               " pad=" + std::to_string(pad) + " ab=" + std::string(dtype_name(d.ab_type)) + " c=" +
               std::string(dtype_name(d.c_type)) + " alpha=" + std::to_string(d.alpha) + " beta=" + std::to_string(d.beta) +
               (bias ? " bias" : "");
    }
};

/// Inputs of one case in their storage types (raw bytes) plus the float64 reference of C.
struct gemm_data {
    gemm_desc d;                   // with explicit ld and strides
    std::vector<std::byte> a, b, c;
    std::vector<float> bias;
    std::vector<double> want;      // every element of C's storage, padding included
};

/// Round-trip v through storage type t, writing the bytes to `out`.
inline void store_as(dtype t, const std::vector<float>& v, std::vector<std::byte>& out, std::vector<double>* rounded) {
    out.resize(v.size() * dtype_size(t));
    if (rounded) rounded->resize(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) {
        float r = v[i];
        if (t == dtype::bf16) {
            const bf16 x = bf16::from_float(v[i]);
            std::memcpy(out.data() + 2 * i, &x, 2);
            r = x.to_float();
        } else if (t == dtype::f16) {
            const f16 x = f16::from_float(v[i]);
            std::memcpy(out.data() + 2 * i, &x, 2);
            r = x.to_float();
        } else {
            std::memcpy(out.data() + 4 * i, &r, 4);
        }
        if (rounded) (*rounded)[i] = r;
    }
}

/// The C storage of `bytes` (type t) as floats.
inline std::vector<float> load_as_float(dtype t, const std::vector<std::byte>& bytes) {
    std::vector<float> v(bytes.size() / dtype_size(t));
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (t == dtype::bf16) {
            bf16 x;
            std::memcpy(&x, bytes.data() + 2 * i, 2);
            v[i] = x.to_float();
        } else if (t == dtype::f16) {
            f16 x;
            std::memcpy(&x, bytes.data() + 2 * i, 2);
            v[i] = x.to_float();
        } else {
            std::memcpy(&v[i], bytes.data() + 4 * i, 4);
        }
    }
    return v;
}

inline gemm_data make_gemm_data(const gemm_case& gc, std::uint64_t seed) {
    gemm_data g;
    gemm_desc& d = g.d;
    d = gc.d;
    const std::int64_t ra = d.trans_a ? d.k : d.m, ca = d.trans_a ? d.m : d.k;
    const std::int64_t rb = d.trans_b ? d.n : d.k, cb = d.trans_b ? d.k : d.n;
    d.lda = ca + gc.pad;
    d.ldb = cb + gc.pad;
    d.ldc = d.n + gc.pad;
    d.stride_a = ra * d.lda + gc.pad;
    d.stride_b = rb * d.ldb + gc.pad;
    d.stride_c = d.m * d.ldc + gc.pad;
    const auto size_of = [&](std::int64_t stride) { return std::size_t(std::max<std::int64_t>(stride * d.batch, 1)); };
    std::vector<double> a, b, c0;
    store_as(d.ab_type, random_floats(size_of(d.stride_a), seed, -1, 1, 1), g.a, &a);
    store_as(d.ab_type, random_floats(size_of(d.stride_b), seed, -1, 1, 2), g.b, &b);
    store_as(d.c_type, random_floats(size_of(d.stride_c), seed, -1, 1, 3), g.c, &c0);
    if (gc.bias) {
        g.bias = random_floats(std::size_t(std::max<std::int64_t>(d.n, 1)), seed, -1, 1, 4);
        d.bias = g.bias.data();
    }
    g.want = c0;  // padding must stay as it was
    for (std::int64_t bt = 0; bt < d.batch; ++bt)
        for (std::int64_t i = 0; i < d.m; ++i)
            for (std::int64_t j = 0; j < d.n; ++j) {
                double s = 0;
                for (std::int64_t p = 0; p < d.k; ++p) {
                    const double x = a[bt * d.stride_a + (d.trans_a ? p * d.lda + i : i * d.lda + p)];
                    const double y = b[bt * d.stride_b + (d.trans_b ? j * d.ldb + p : p * d.ldb + j)];
                    s += x * y;
                }
                const std::int64_t at = bt * d.stride_c + i * d.ldc + j;
                g.want[at] = double(d.alpha) * s + (d.beta != 0 ? double(d.beta) * c0[at] : 0.0) + (gc.bias ? double(g.bias[j]) : 0.0);
            }
    return g;
}

/// Tolerances for C of type t after a k-long f32 accumulation of products of values in [-1, 1].
inline double gemm_rtol(dtype t) { return t == dtype::bf16 ? 8e-3 : t == dtype::f16 ? 1e-3 : 1e-5; }
inline double gemm_atol(dtype t, std::int64_t k) { return gemm_rtol(t) * 0.5 + 2e-6 * double(k + 1); }

/// The cases every backend runs.
inline std::vector<gemm_case> gemm_cases() {
    std::vector<gemm_case> cs;
    const auto add = [&](std::int64_t m, std::int64_t n, std::int64_t k, bool ta, bool tb, std::int64_t batch,
                         std::int64_t pad, dtype ab, dtype c, float alpha, float beta, bool bias) {
        gemm_case g;
        g.d.m = m, g.d.n = n, g.d.k = k, g.d.trans_a = ta, g.d.trans_b = tb, g.d.batch = batch;
        g.d.ab_type = ab, g.d.c_type = c, g.d.alpha = alpha, g.d.beta = beta;
        g.pad = pad, g.bias = bias;
        cs.push_back(g);
    };
    const std::int64_t sizes[][3] = {{1, 1, 1}, {7, 13, 5}, {33, 65, 17}, {1, 40, 9}, {64, 1, 31}, {130, 70, 260}};
    for (auto& s : sizes)
        for (int t = 0; t < 4; ++t) add(s[0], s[1], s[2], t & 1, t & 2, 1, 0, dtype::f32, dtype::f32, 1.0f, 0.0f, false);
    for (int t = 0; t < 4; ++t) {
        add(33, 65, 17, t & 1, t & 2, 3, 5, dtype::f32, dtype::f32, 1.0f, 0.0f, false);       // batched, padded
        add(7, 13, 5, t & 1, t & 2, 1, 3, dtype::f32, dtype::f32, 0.5f, -1.25f, true);      // alpha, beta, bias
        add(33, 65, 17, t & 1, t & 2, 2, 2, dtype::f32, dtype::f32, -2.0f, 0.75f, true);
    }
    for (dtype ab : {dtype::bf16, dtype::f16})
        for (dtype c : {dtype::f32, dtype::bf16, dtype::f16})
            for (int t = 0; t < 4; ++t) {
                add(33, 65, 17, t & 1, t & 2, 1, 0, ab, c, 1.0f, 0.0f, false);
                add(7, 13, 40, t & 1, t & 2, 2, 3, ab, c, 0.5f, 0.5f, true);
            }
    add(300, 20, 30, true, false, 2, 1, dtype::bf16, dtype::bf16, 1.0f, 0.5f, true);      // large M: bf16 via f32
    add(300, 20, 30, false, true, 2, 2, dtype::bf16, dtype::f32, 1.5f, 0.5f, true);
    add(1, 1, 1, false, false, 4, 1, dtype::bf16, dtype::bf16, 1.0f, 1.0f, true);
    add(5, 6, 0, false, false, 2, 1, dtype::f32, dtype::f32, 1.0f, 0.5f, true);              // k = 0: beta * C + bias
    add(5, 6, 0, true, true, 1, 0, dtype::f32, dtype::bf16, 1.0f, 0.0f, false);
    return cs;
}

}  // namespace hoprag::test
