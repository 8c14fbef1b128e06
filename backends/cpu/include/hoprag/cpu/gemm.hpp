// The CPU GEMM: C[b] = alpha * op(A[b]) * op(B[b]) + beta * C[b] (+ bias) for every `gemm_desc`
// (row-major, transposes, leading dimensions, strided batches, f32/bf16/f16 inputs with f32
// accumulation, f32/bf16/f16 outputs). It runs on oneDNN (matmul primitive; dnnl_sgemm for large
// f32 products, where 2.6's matmul has slow sizes), which picks its kernel
// from the CPU's features at run time (AVX-512, AVX512-BF16, AVX2, ...) and stays correct on older
// CPUs. Primitives are created once per distinct descriptor and cached in the cpu::context; type
// combinations oneDNN cannot run natively (e.g. f16 on CPUs without it) are converted to f32 in
// context-owned scratch, run as an f32 GEMM and converted back. Not thread-safe per context.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "hoprag/backend/gemm_check.hpp"
#include "hoprag/core/dtype.hpp"
#include "hoprag/core/error.hpp"
#include "hoprag/cpu/context.hpp"

namespace hoprag::cpu {
namespace detail {

/// Everything that selects a oneDNN primitive (pointers excluded).
struct gemm_key {
    std::int64_t m, n, k, lda, ldb, ldc, batch, stride_a, stride_b, stride_c;
    bool trans_a, trans_b, has_bias;
    dtype ab_type, c_type;
    float alpha, beta;
    bool operator==(const gemm_key&) const = default;
};

struct gemm_key_hash {
    std::size_t operator()(const gemm_key& k) const noexcept {
        std::size_t h = 1469598103934665603ull;
        const auto mix = [&h](std::uint64_t v) { h = (h ^ v) * 1099511628211ull; };
        for (std::int64_t v : {k.m, k.n, k.k, k.lda, k.ldb, k.ldc, k.batch, k.stride_a, k.stride_b, k.stride_c}) mix(std::uint64_t(v));
        mix(std::uint64_t(k.trans_a) | std::uint64_t(k.trans_b) << 1 | std::uint64_t(k.has_bias) << 2 |
            std::uint64_t(k.ab_type) << 8 | std::uint64_t(k.c_type) << 16);
        mix(float_bits(k.alpha));
        mix(float_bits(k.beta));
        return h;
    }
};

/// A cached primitive, or `convert` when the types must go through the f32 path.
struct gemm_plan {
    bool convert = false;
    dnnl::matmul prim;
    dnnl::memory::desc a_md, b_md, c_md, bias_md;
};

/// Primitives kept per context before the cache is emptied (each holds JIT code, ~100 KiB).
inline constexpr std::size_t max_cached_plans = 512;

/// The per-context GEMM state: oneDNN engine and stream, primitive cache, conversion scratch.
struct gemm_state {
    dnnl::engine engine{dnnl::engine::kind::cpu, 0};
    dnnl::stream stream{engine};
    std::unordered_map<gemm_key, gemm_plan, gemm_key_hash> plans;
    std::vector<float> scratch_a, scratch_b, scratch_bias;
};

inline dnnl::memory::data_type dnnl_type(dtype t) {
    switch (t) {
        case dtype::bf16: return dnnl::memory::data_type::bf16;
        case dtype::f16: return dnnl::memory::data_type::f16;
        default: return dnnl::memory::data_type::f32;
    }
}

/// Memory descriptor of a (batch of) rows x cols matrix stored row-major with row stride `ld`,
/// or column-major (stored transposed) when `trans`.
inline dnnl::memory::desc matrix_md(std::int64_t batch, std::int64_t rows, std::int64_t cols, std::int64_t ld,
                                    std::int64_t stride, bool trans, dtype t) {
    using dims = dnnl::memory::dims;
    const std::int64_t rs = trans ? 1 : ld, cs = trans ? ld : 1;
    if (batch == 1) return {dims{rows, cols}, dnnl_type(t), dims{rs, cs}};
    return {dims{batch, rows, cols}, dnnl_type(t), dims{stride, rs, cs}};
}

/// Largest M for which 16-bit inputs run oneDNN's native bf16 kernels (see make_plan).
inline constexpr std::int64_t bf16_native_max_m = 256;

inline gemm_plan make_plan(gemm_state& st, const gemm_desc& d) {
    gemm_plan p;
    p.a_md = matrix_md(d.batch, d.m, d.k, d.lda, d.stride_a, d.trans_a, d.ab_type);
    p.b_md = matrix_md(d.batch, d.k, d.n, d.ldb, d.stride_b, d.trans_b, d.ab_type);
    p.c_md = matrix_md(d.batch, d.m, d.n, d.ldc, d.stride_c, false, d.c_type);
    dnnl::primitive_attr attr;
    if (d.alpha != 1.0f) attr.set_output_scales(0, {d.alpha});
    dnnl::post_ops ops;
    if (d.beta != 0.0f) ops.append_sum(d.beta);
    if (d.bias) {
        // oneDNN adds its bias before the output scale, (acc + bias) * alpha; gemm() passes bias / alpha.
        // (A binary-add post-op would order it right, but oneDNN 2.6 misplaces it when C is padded.)
        p.bias_md = d.batch == 1 ? dnnl::memory::desc({1, d.n}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::ab)
                                 : dnnl::memory::desc({1, 1, d.n}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::abc);
    }
    attr.set_post_ops(ops);
    // oneDNN 2.6's bf16 brgemm matmul falls behind its f32 kernel once M is large (measured here on
    // an AVX512-BF16 Xeon: ~0.6x at M = 2048); converting A and B to f32 costs O(M K + K N) only.
    if (d.ab_type != dtype::f32 && d.m >= bf16_native_max_m) {
        p.convert = true;
        return p;
    }
    try {
        const dnnl::matmul::desc md = d.bias ? dnnl::matmul::desc(p.a_md, p.b_md, p.bias_md, p.c_md) : dnnl::matmul::desc(p.a_md, p.b_md, p.c_md);
        p.prim = dnnl::matmul(dnnl::matmul::primitive_desc(md, attr, st.engine));
    } catch (const dnnl::error&) {
        if (d.ab_type == dtype::f32 && d.c_type == dtype::f32) throw;  // nothing to fall back to
        p.convert = true;
    }
    return p;
}

/// Copy a batch of rows x cols matrices with row stride ld / batch stride `stride` from type `t`
/// into packed f32 (or back when `to_f32` is false).
inline void convert_matrices(const gemm_desc& d, std::int64_t rows, std::int64_t cols, std::int64_t ld, std::int64_t stride,
                             dtype t, void* typed, float* packed_f32, bool to_f32) {
#pragma omp parallel for schedule(static) if (d.batch * rows * cols > 65536)
    for (std::int64_t br = 0; br < d.batch * rows; ++br) {
        const std::int64_t b = br / rows, r = br % rows;
        float* f = packed_f32 + br * cols;
        const std::int64_t off = b * stride + r * ld;
        switch (t) {
            case dtype::bf16: {
                bf16* x = static_cast<bf16*>(typed) + off;
                for (std::int64_t j = 0; j < cols; ++j)
                    if (to_f32) f[j] = x[j].to_float(); else x[j] = bf16::from_float(f[j]);
                break;
            }
            case dtype::f16: {
                f16* x = static_cast<f16*>(typed) + off;
                for (std::int64_t j = 0; j < cols; ++j)
                    if (to_f32) f[j] = x[j].to_float(); else x[j] = f16::from_float(f[j]);
                break;
            }
            default: {
                float* x = static_cast<float*>(typed) + off;
                if (to_f32) std::copy(x, x + cols, f); else std::copy(f, f + cols, x);
            }
        }
    }
}

/// k == 0 or alpha == 0: C = beta * C + bias, written without reading C when beta == 0.
inline void gemm_empty_k(const gemm_desc& d, void* c) {
    for (std::int64_t b = 0; b < d.batch; ++b)
        for (std::int64_t i = 0; i < d.m; ++i)
            for (std::int64_t j = 0; j < d.n; ++j) {
                const std::int64_t at = b * d.stride_c + i * d.ldc + j;
                float old = 0.0f;
                if (d.beta != 0.0f) {
                    if (d.c_type == dtype::f32) old = static_cast<float*>(c)[at];
                    else if (d.c_type == dtype::bf16) old = static_cast<bf16*>(c)[at].to_float();
                    else old = static_cast<f16*>(c)[at].to_float();
                }
                const float v = d.beta * old + (d.bias ? d.bias[j] : 0.0f);
                if (d.c_type == dtype::f32) static_cast<float*>(c)[at] = v;
                else if (d.c_type == dtype::bf16) static_cast<bf16*>(c)[at] = bf16::from_float(v);
                else static_cast<f16*>(c)[at] = f16::from_float(v);
            }
}

/// Products with m * n * k at or above this (per batch item) run f32 on dnnl_sgemm: oneDNN 2.6's
/// f32 matmul drops to ~30% of it at sizes like 1536, 2560 or 3072 (4K-aliasing rows), while
/// dnnl_sgemm stays within ~10% of matmul's best at smaller sizes (measured on 2 AVX-512 cores).
inline constexpr double sgemm_min_work = double(1 << 30);

/// Large f32 GEMM: dnnl_sgemm per batch item, then the bias (bias goes after alpha and beta).
inline void gemm_sgemm(const gemm_desc& d, const float* a, const float* b, float* c) {
    for (std::int64_t i = 0; i < d.batch; ++i) {
        float* ci = c + i * d.stride_c;
        const dnnl_status_t s = dnnl_sgemm(d.trans_a ? 'T' : 'N', d.trans_b ? 'T' : 'N', d.m, d.n, d.k, d.alpha, a + i * d.stride_a,
                                           d.lda, b + i * d.stride_b, d.ldb, d.beta, ci, d.ldc);
        if (s != dnnl_success) throw config_error("gemm: dnnl_sgemm failed with status " + std::to_string(int(s)));
        if (!d.bias) continue;
#pragma omp parallel for schedule(static)
        for (std::int64_t r = 0; r < d.m; ++r)
            for (std::int64_t j = 0; j < d.n; ++j) ci[r * d.ldc + j] += d.bias[j];
    }
}

}  // namespace detail

/// C[b] = alpha * op(A[b]) * op(B[b]) + beta * C[b] (+ bias[n] on every row), b < d.batch, on the
/// host. Sizes, layouts and types as documented on `gemm_desc`; a, b, c point to host memory of
/// types d.ab_type / d.c_type. With beta == 0, C is not read (NaNs in it do not propagate).
/// Throws shape_error / config_error for a bad descriptor or null pointers (see checked_gemm_desc).
inline void gemm(context& ctx, const gemm_desc& desc, const void* a, const void* b, void* c) {
    const gemm_desc d = checked_gemm_desc(desc);
    if (d.batch == 0 || d.m == 0 || d.n == 0) return;
    if (!c || (d.k > 0 && (!a || !b))) throw config_error("gemm: null A, B or C pointer for a non-empty product");
    if (d.k == 0 || d.alpha == 0.0f) return detail::gemm_empty_k(d, c);

    if (d.ab_type == dtype::f32 && d.c_type == dtype::f32 && double(d.m) * double(d.n) * double(d.k) >= detail::sgemm_min_work)
        return detail::gemm_sgemm(d, static_cast<const float*>(a), static_cast<const float*>(b), static_cast<float*>(c));

    auto& slot = ctx.op_state(context::state_slot::gemm);
    if (!slot) slot = std::make_shared<detail::gemm_state>();
    auto& st = *static_cast<detail::gemm_state*>(slot.get());

    const detail::gemm_key key{d.m,        d.n,        d.k,        d.lda,     d.ldb,     d.ldc,  d.batch,
                               d.stride_a, d.stride_b, d.stride_c, d.trans_a, d.trans_b, d.bias != nullptr,
                               d.ab_type,  d.c_type,   d.alpha,    d.beta};
    auto it = st.plans.find(key);
    if (it == st.plans.end()) {
        if (st.plans.size() >= detail::max_cached_plans) st.plans.clear();  // many shapes: start over
        it = st.plans.emplace(key, detail::make_plan(st, d)).first;
    }
    const detail::gemm_plan& p = it->second;

    if (p.convert) {
        // f32 path: packed f32 copies of A, B (and C when beta reads it), one f32 GEMM, convert C back
        gemm_desc f = d;
        f.ab_type = f.c_type = dtype::f32;
        f.lda = f.ldb = f.ldc = f.stride_a = f.stride_b = f.stride_c = 0;
        f = packed(f);
        const std::int64_t ra = d.trans_a ? d.k : d.m, ca = d.trans_a ? d.m : d.k;
        const std::int64_t rb = d.trans_b ? d.n : d.k, cb = d.trans_b ? d.k : d.n;
        st.scratch_a.resize(std::size_t(d.batch * d.m * d.k));
        st.scratch_b.resize(std::size_t(d.batch * d.k * d.n));
        detail::convert_matrices(d, ra, ca, d.lda, d.stride_a, d.ab_type, const_cast<void*>(a), st.scratch_a.data(), true);
        detail::convert_matrices(d, rb, cb, d.ldb, d.stride_b, d.ab_type, const_cast<void*>(b), st.scratch_b.data(), true);
        // the scratch vectors are not touched by the nested call: f32 x f32 -> f32 never converts
        std::vector<float> sa = std::move(st.scratch_a), sb = std::move(st.scratch_b);
        if (d.c_type == dtype::f32) {  // write C in place
            f.ldc = d.ldc, f.stride_c = d.stride_c;
            gemm(ctx, f, sa.data(), sb.data(), c);
        } else {
            std::vector<float> sc(std::size_t(d.batch * d.m * d.n));
            if (d.beta != 0.0f) detail::convert_matrices(d, d.m, d.n, d.ldc, d.stride_c, d.c_type, c, sc.data(), true);
            gemm(ctx, f, sa.data(), sb.data(), sc.data());
            detail::convert_matrices(d, d.m, d.n, d.ldc, d.stride_c, d.c_type, c, sc.data(), false);
        }
        st.scratch_a = std::move(sa), st.scratch_b = std::move(sb);
        return;
    }

    std::unordered_map<int, dnnl::memory> args{
        {DNNL_ARG_SRC, dnnl::memory(p.a_md, st.engine, const_cast<void*>(a))},
        {DNNL_ARG_WEIGHTS, dnnl::memory(p.b_md, st.engine, const_cast<void*>(b))},
        {DNNL_ARG_DST, dnnl::memory(p.c_md, st.engine, c)}};
    if (d.bias) {
        const float* bias = d.bias;
        if (d.alpha != 1.0f) {
            st.scratch_bias.resize(std::size_t(d.n));
            for (std::int64_t j = 0; j < d.n; ++j) st.scratch_bias[std::size_t(j)] = d.bias[j] / d.alpha;
            bias = st.scratch_bias.data();
        }
        args.emplace(DNNL_ARG_BIAS, dnnl::memory(p.bias_md, st.engine, const_cast<float*>(bias)));
    }
    p.prim.execute(st.stream, args);
    st.stream.wait();
}

}  // namespace hoprag::cpu
