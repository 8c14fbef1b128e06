// CUDA RoPE forward/backward (declared in hoprag/cuda/rope.hpp).
#include "hoprag/cuda/check.cuh"
#include "hoprag/cuda/rope.cuh"
#include "hoprag/cuda/rope.hpp"

namespace hoprag::cuda {

namespace {
constexpr unsigned rope_threads = 128;

void launch_rope(context& ctx, float* x, const std::int32_t* positions, std::int64_t batch, std::int64_t seq,
                 std::int64_t heads, std::int64_t head_dim, float theta, rope_style style, float sign, const char* op) {
    kernels::validate_rope(batch, seq, heads, head_dim, theta, op);
    const std::int64_t rows = batch * seq * heads;
    if (rows == 0) return;
    detail::rope_kernel<<<detail::blocks_for(rows, rope_threads), rope_threads, 0, HOPRAG_STREAM(ctx)>>>(
        x, positions, rows, seq, heads, head_dim, theta, style, sign);
    HOPRAG_CUDA_CHECK_LAUNCH();
}
}  // namespace

void rope_forward(context& ctx, float* x, const std::int32_t* positions, std::int64_t batch, std::int64_t seq,
                  std::int64_t heads, std::int64_t head_dim, float theta, rope_style style) {
    launch_rope(ctx, x, positions, batch, seq, heads, head_dim, theta, style, 1.0f, "rope_forward");
}

void rope_backward(context& ctx, float* dx, const std::int32_t* positions, std::int64_t batch, std::int64_t seq,
                   std::int64_t heads, std::int64_t head_dim, float theta, rope_style style) {
    launch_rope(ctx, dx, positions, batch, seq, heads, head_dim, theta, style, -1.0f, "rope_backward");
}

}  // namespace hoprag::cuda
