// The CUDA GEMM's host interface (CUDA-free, DESIGN rule 1): declared here, defined in
// backends/cuda/src/gemm.cu on cuBLASLt. Same contract as hoprag::cpu::gemm, so code written
// against the backend interface gets the same result (to f32 rounding) on either backend.
#pragma once

#include "hoprag/backend/gemm_check.hpp"
#include "hoprag/backend/ops.hpp"
#include "hoprag/cuda/context.hpp"

namespace hoprag::cuda {

/// C[b] = alpha * op(A[b]) * op(B[b]) + beta * C[b] (+ bias[n] on every row), b < d.batch, on the
/// context's stream (asynchronous; synchronize or download to wait). a, b, c and d.bias are device
/// pointers of types d.ab_type / d.c_type / f32. Accumulation is f32; TF32 tensor-core products only
/// when d.allow_tf32. With beta == 0, C is not read. Runs through cuBLASLt with the context's handle
/// and workspace; output types cuBLASLt cannot write from the given inputs (f32 -> bf16, f16 -> bf16,
/// ...) go through an f32 temporary. Throws shape_error / config_error for a bad descriptor (see
/// checked_gemm_desc) and cuda_error when CUDA or cuBLASLt fails or finds no algorithm.
void gemm(context& ctx, const gemm_desc& d, const void* a, const void* b, void* c);

}  // namespace hoprag::cuda
