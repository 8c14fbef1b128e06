// CUDA attention forward/backward (declared in hoprag/cuda/attention.hpp).
#include "hoprag/cuda/attention.cuh"
#include "hoprag/cuda/attention.hpp"
#include "hoprag/cuda/check.cuh"

namespace hoprag::cuda {

namespace {
constexpr unsigned attention_threads = 128;
}  // namespace

void attention_forward(context& ctx, const attention_desc& d, float* out, float* probs, const float* q, const float* k,
                       const float* v) {
    kernels::validate(d, "attention_forward");
    const std::int64_t rows = d.batch * d.n_heads * d.q_len;
    if (rows == 0) return;
    detail::attention_forward_kernel<<<detail::blocks_for(rows, attention_threads), attention_threads, 0,
                                       HOPRAG_STREAM(ctx)>>>(d, out, probs, q, k, v);
    HOPRAG_CUDA_CHECK_LAUNCH();
}

void attention_backward(context& ctx, const attention_desc& d, float* dq, float* dk, float* dv, const float* dout,
                        const float* q, const float* k, const float* v, const float* probs) {
    kernels::validate(d, "attention_backward");
    const std::int64_t rows = d.batch * d.n_heads * d.q_len;
    const std::int64_t key_rows = d.batch * d.n_kv_heads * d.kv_len;
    float* delta = static_cast<float*>(allocate(ctx, static_cast<std::size_t>(rows) * sizeof(float)));
    try {
        if (rows > 0) {
            detail::attention_backward_query_kernel<<<detail::blocks_for(rows, attention_threads), attention_threads, 0,
                                                      HOPRAG_STREAM(ctx)>>>(d, dq, delta, dout, k, v, probs);
            HOPRAG_CUDA_CHECK_LAUNCH();
        }
        if (key_rows > 0) {
            detail::attention_backward_key_kernel<<<detail::blocks_for(key_rows, attention_threads), attention_threads, 0,
                                                    HOPRAG_STREAM(ctx)>>>(d, dk, dv, dout, q, v, probs, delta);
            HOPRAG_CUDA_CHECK_LAUNCH();
        }
    } catch (...) {
        deallocate(ctx, delta);
        throw;
    }
    deallocate(ctx, delta);
}

}  // namespace hoprag::cuda
