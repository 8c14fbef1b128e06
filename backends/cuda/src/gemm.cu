// The CUDA GEMM on cuBLASLt (see hoprag/cuda/gemm.hpp). Row-major C = op(A) op(B) is computed as
// column-major C^T = op(B)^T op(A)^T: the operands are swapped and every row-major matrix is read
// as its column-major transpose, so no data moves. Bias uses the BIAS epilogue (added after
// alpha/beta), falling back to a small kernel when cuBLASLt offers no algorithm with it.
#include <cstdint>
#include <memory>
#include <string>

#include "hoprag/cuda/check.cuh"
#include "hoprag/cuda/gemm.cuh"
#include "hoprag/cuda/gemm.hpp"

namespace hoprag::cuda {
namespace {

constexpr unsigned gemm_threads = 256;

cudaDataType_t cuda_type(dtype t) {
    switch (t) {
        case dtype::bf16: return CUDA_R_16BF;
        case dtype::f16: return CUDA_R_16F;
        default: return CUDA_R_32F;
    }
}

struct desc_deleter {
    void operator()(cublasLtMatmulDescOpaque_t* p) const { cublasLtMatmulDescDestroy(p); }
    void operator()(cublasLtMatrixLayoutOpaque_t* p) const { cublasLtMatrixLayoutDestroy(p); }
    void operator()(cublasLtMatmulPreferenceOpaque_t* p) const { cublasLtMatmulPreferenceDestroy(p); }
};
using matmul_desc = std::unique_ptr<cublasLtMatmulDescOpaque_t, desc_deleter>;
using matrix_layout = std::unique_ptr<cublasLtMatrixLayoutOpaque_t, desc_deleter>;
using preference = std::unique_ptr<cublasLtMatmulPreferenceOpaque_t, desc_deleter>;

/// Column-major layout of `rows x cols` with leading dimension ld, batched with `stride`.
matrix_layout make_layout(dtype t, std::int64_t rows, std::int64_t cols, std::int64_t ld, std::int64_t batch, std::int64_t stride) {
    cublasLtMatrixLayout_t l = nullptr;
    HOPRAG_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&l, cuda_type(t), std::uint64_t(rows), std::uint64_t(cols), ld));
    matrix_layout owned(l);
    if (batch > 1) {
        const std::int32_t count = static_cast<std::int32_t>(batch);
        HOPRAG_CUBLAS_CHECK(cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count, sizeof count));
        HOPRAG_CUBLAS_CHECK(cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &stride, sizeof stride));
    }
    return owned;
}

/// Largest power of two (<= 256) dividing the address of every batch item.
std::uint32_t alignment_of(const void* p, std::int64_t stride, std::int64_t batch, dtype t) {
    std::uint64_t bits = reinterpret_cast<std::uintptr_t>(p) | 256u;
    if (batch > 1) bits |= std::uint64_t(stride) * dtype_size(t);
    return static_cast<std::uint32_t>(bits & (~bits + 1));
}

template <class F>
void with_c_type(dtype t, F&& f) {
    if (t == dtype::bf16) f(bf16{});
    else if (t == dtype::f16) f(f16{});
    else f(float{});
}

/// C = beta * C + bias on the stream (the k == 0 case and the bias fallback).
void scale_bias(context& ctx, const gemm_desc& d, void* c, float beta, const float* bias) {
    const std::int64_t total = d.batch * d.m * d.n;
    with_c_type(d.c_type, [&](auto tag) {
        using T = decltype(tag);
        kernels::gemm_scale_bias<T><<<detail::blocks_for(total, gemm_threads), gemm_threads, 0, HOPRAG_STREAM(ctx)>>>(
            static_cast<T*>(c), d.batch, d.m, d.n, d.ldc, d.stride_c, beta, bias);
        HOPRAG_CUDA_CHECK_LAUNCH();
    });
}

/// One cuBLASLt matmul for a checked descriptor whose types cuBLASLt supports directly.
void lt_matmul(context& ctx, const gemm_desc& d, const void* a, const void* b, void* c) {
    const bool tf32 = d.allow_tf32 && d.ab_type == dtype::f32;
    // swapped operands: cuBLASLt's A is our B, its B is our A; m' = n, n' = m
    const cublasOperation_t op_a = d.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, op_b = d.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
    const auto make_desc = [&] {
        cublasLtMatmulDesc_t r = nullptr;
        HOPRAG_CUBLAS_CHECK(cublasLtMatmulDescCreate(&r, tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F, CUDA_R_32F));
        matmul_desc owned(r);
        HOPRAG_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(r, CUBLASLT_MATMUL_DESC_TRANSA, &op_a, sizeof op_a));
        HOPRAG_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(r, CUBLASLT_MATMUL_DESC_TRANSB, &op_b, sizeof op_b));
        return owned;
    };
    matmul_desc desc = make_desc();
    cublasLtMatmulDesc_t raw = desc.get();
    // stored row-major r x c with row stride ld == column-major c x r with leading dimension ld
    const matrix_layout la = d.trans_b ? make_layout(d.ab_type, d.k, d.n, d.ldb, d.batch, d.stride_b)
                                       : make_layout(d.ab_type, d.n, d.k, d.ldb, d.batch, d.stride_b);
    const matrix_layout lb = d.trans_a ? make_layout(d.ab_type, d.m, d.k, d.lda, d.batch, d.stride_a)
                                       : make_layout(d.ab_type, d.k, d.m, d.lda, d.batch, d.stride_a);
    const matrix_layout lc = make_layout(d.c_type, d.n, d.m, d.ldc, d.batch, d.stride_c);

    cublasLtMatmulPreference_t praw = nullptr;
    HOPRAG_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&praw));
    preference pref(praw);
    const std::size_t ws = ctx.workspace_bytes();
    HOPRAG_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(praw, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws));
    const std::uint32_t al_a = alignment_of(b, d.stride_b, d.batch, d.ab_type), al_b = alignment_of(a, d.stride_a, d.batch, d.ab_type),
                        al_c = alignment_of(c, d.stride_c, d.batch, d.c_type);
    HOPRAG_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(praw, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &al_a, sizeof al_a));
    HOPRAG_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(praw, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &al_b, sizeof al_b));
    HOPRAG_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(praw, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &al_c, sizeof al_c));
    HOPRAG_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(praw, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &al_c, sizeof al_c));

    const auto handle = static_cast<cublasLtHandle_t>(ctx.blaslt());
    cublasLtMatmulHeuristicResult_t found{};
    int count = 0;
    bool bias_in_epilogue = false;
    if (d.bias) {
        const cublasLtEpilogue_t epi = CUBLASLT_EPILOGUE_BIAS;
        const cudaDataType_t bias_type = CUDA_R_32F;
        const void* bias = d.bias;
        HOPRAG_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(raw, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof epi));
        HOPRAG_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(raw, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias));
        const cublasStatus_t s = cublasLtMatmulDescSetAttribute(raw, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &bias_type, sizeof bias_type);
        if (s == CUBLAS_STATUS_SUCCESS &&
            cublasLtMatmulAlgoGetHeuristic(handle, raw, la.get(), lb.get(), lc.get(), lc.get(), praw, 1, &found, &count) ==
                CUBLAS_STATUS_SUCCESS &&
            count > 0)
            bias_in_epilogue = true;
        if (!bias_in_epilogue) {  // no algorithm with an f32 bias for these types: plain GEMM, then a kernel
            // a fresh descriptor: the bias pointer and bias type must not linger beside a plain epilogue
            desc = make_desc();
            raw = desc.get();
            count = 0;
        }
    }
    if (count == 0) {
        const cublasStatus_t st = cublasLtMatmulAlgoGetHeuristic(handle, raw, la.get(), lb.get(), lc.get(), lc.get(), praw, 1, &found, &count);
        if (st != CUBLAS_STATUS_SUCCESS || count == 0)
            throw cuda_error("gemm: cuBLASLt " + std::string(st != CUBLAS_STATUS_SUCCESS ? "heuristic failed (status " + std::to_string(int(st)) + ")"
                                                                                        : "has no algorithm") +
                             " for m=" + std::to_string(d.m) + " n=" + std::to_string(d.n) + " k=" + std::to_string(d.k) +
                             " ta=" + std::to_string(d.trans_a) + " tb=" + std::to_string(d.trans_b) + " batch=" + std::to_string(d.batch) +
                             " lda=" + std::to_string(d.lda) + " ldb=" + std::to_string(d.ldb) + " ldc=" + std::to_string(d.ldc) +
                             " strides=" + std::to_string(d.stride_a) + "/" + std::to_string(d.stride_b) + "/" + std::to_string(d.stride_c) +
                             " ab=" + std::string(dtype_name(d.ab_type)) + " c=" + std::string(dtype_name(d.c_type)) +
                             " alignments=" + std::to_string(al_a) + "/" + std::to_string(al_b) + "/" + std::to_string(al_c) +
                             (d.bias ? " bias" : ""));
    }
    const float alpha = d.alpha, beta = d.beta;
    HOPRAG_CUBLAS_CHECK(cublasLtMatmul(handle, raw, &alpha, b, la.get(), a, lb.get(), &beta, c, lc.get(), c, lc.get(), &found.algo,
                                       ctx.workspace(), ws, HOPRAG_STREAM(ctx)));
    if (d.bias && !bias_in_epilogue) scale_bias(ctx, d, c, 1.0f, d.bias);
}

}  // namespace

void gemm(context& ctx, const gemm_desc& desc, const void* a, const void* b, void* c) {
    const gemm_desc d = checked_gemm_desc(desc);
    if (d.batch == 0 || d.m == 0 || d.n == 0) return;
    if (!c || (d.k > 0 && (!a || !b))) throw config_error("gemm: null A, B or C pointer for a non-empty product");
    if (d.k == 0 || d.alpha == 0.0f) return scale_bias(ctx, d, c, d.beta, d.bias);
    if (d.c_type == dtype::f32 || d.c_type == d.ab_type) return lt_matmul(ctx, d, a, b, c);

    // cuBLASLt writes bf16/f16 only from inputs of the same type: go through a packed f32 C
    gemm_desc f = d;
    f.c_type = dtype::f32;
    f.ldc = d.n;
    f.stride_c = d.m * d.n;
    const std::int64_t total = d.batch * d.m * d.n;
    float* tmp = static_cast<float*>(allocate(ctx, std::size_t(total) * sizeof(float)));
    try {
        const unsigned blocks = detail::blocks_for(total, gemm_threads);
        with_c_type(d.c_type, [&](auto tag) {
            using T = decltype(tag);
            if (d.beta != 0.0f) {
                kernels::convert_matrix<T, float><<<blocks, gemm_threads, 0, HOPRAG_STREAM(ctx)>>>(
                    static_cast<const T*>(c), d.ldc, d.stride_c, tmp, f.ldc, f.stride_c, d.batch, d.m, d.n);
                HOPRAG_CUDA_CHECK_LAUNCH();
            }
            lt_matmul(ctx, f, a, b, tmp);
            kernels::convert_matrix<float, T><<<blocks, gemm_threads, 0, HOPRAG_STREAM(ctx)>>>(
                tmp, f.ldc, f.stride_c, static_cast<T*>(c), d.ldc, d.stride_c, d.batch, d.m, d.n);
            HOPRAG_CUDA_CHECK_LAUNCH();
        });
    } catch (...) {
        deallocate(ctx, tmp);
        throw;
    }
    deallocate(ctx, tmp);
}

}  // namespace hoprag::cuda
