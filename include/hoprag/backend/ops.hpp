// Descriptors and enums shared by every backend's op set. Layouts are row-major and sizes are in
// elements. Conventions for all ops:
//  * activations and gradients are f32 unless a descriptor says otherwise;
//  * backward ops WRITE input gradients (dx = ...) and ACCUMULATE parameter gradients (dw += ...);
//  * pointers are in the backend's memory space (host for cpu, device for cuda).
#pragma once

#include <cstdint>

#include "hoprag/core/dtype.hpp"

namespace hoprag {

/// C[b] = alpha * op(A[b]) * op(B[b]) + beta * C[b] (+ bias broadcast over rows), for b < batch.
/// op(A) is m x k (A stored k x m when trans_a), op(B) is k x n (B stored n x k when trans_b).
/// Accumulation is always f32; inputs may be f32, bf16 or f16 (a_type == b_type), output f32,
/// bf16 or f16. Leading dimensions are row strides of the stored matrices.
struct gemm_desc {
    std::int64_t m = 0, n = 0, k = 0;
    bool trans_a = false, trans_b = false;
    dtype ab_type = dtype::f32;     // element type of A and B
    dtype c_type = dtype::f32;      // element type of C
    std::int64_t lda = 0, ldb = 0, ldc = 0;  // row strides; 0 = packed (derived from m, n, k)
    std::int64_t batch = 1;
    std::int64_t stride_a = 0, stride_b = 0, stride_c = 0;  // elements between batch items; 0 = packed
    float alpha = 1.0f, beta = 0.0f;
    const float* bias = nullptr;    // [n] f32, added after alpha/beta, or nullptr
    bool allow_tf32 = false;        // CUDA, f32 inputs: let tensor cores round A/B to TF32 (faster, ~1e-3
                                    // relative error); off = full f32 products, parity with the CPU
};

/// Fill in packed leading dimensions and batch strides left at 0.
inline gemm_desc packed(gemm_desc d) {
    if (d.lda == 0) d.lda = d.trans_a ? d.m : d.k;
    if (d.ldb == 0) d.ldb = d.trans_b ? d.k : d.n;
    if (d.ldc == 0) d.ldc = d.n;
    if (d.stride_a == 0) d.stride_a = d.m * d.k;
    if (d.stride_b == 0) d.stride_b = d.k * d.n;
    if (d.stride_c == 0) d.stride_c = d.m * d.n;
    return d;
}

enum class gelu_kind { erf, tanh };

/// Which pairs RoPE rotates: `half` pairs (i, i + d/2) as Hugging Face Llama/Mistral;
/// `interleaved` pairs (2i, 2i + 1) as the original Meta code and GPT-J.
enum class rope_style { half, interleaved };

/// Scaled-dot-product attention over
///   q   [batch, q_len,  n_heads,    head_dim]
///   k,v [batch, kv_len, n_kv_heads, head_dim]      (n_heads % n_kv_heads == 0: GQA, head h reads
///   out [batch, q_len,  n_heads,    head_dim]       kv head h / (n_heads / n_kv_heads))
///   probs [batch, n_heads, q_len, kv_len]           (saved by forward for backward)
/// Query i may see key j when: j < kv_valid[b] (if given); causal: j <= i + kv_len - q_len;
/// window > 0: j > i + kv_len - q_len - window. A query that sees no key outputs zeros.
struct attention_desc {
    std::int64_t batch = 1, q_len = 0, kv_len = 0, n_heads = 1, n_kv_heads = 1, head_dim = 0;
    float scale = 0.0f;                  // 0 = 1 / sqrt(head_dim)
    bool causal = false;
    std::int64_t window = 0;             // sliding window size, 0 = none
    const std::int32_t* kv_valid = nullptr;  // [batch] valid key count (padding mask), or nullptr
};

}  // namespace hoprag
