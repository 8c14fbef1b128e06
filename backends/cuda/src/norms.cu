// CUDA LayerNorm and RMSNorm (see hoprag/cuda/norms.hpp): host entry points that check sizes and
// launch the functors of hoprag/cuda/norms.cuh on the context's stream.
#include "hoprag/cuda/norms.cuh"
#include "hoprag/cuda/norms.hpp"
#include "hoprag/kernels/checks.hpp"

namespace hoprag::cuda {

void layernorm_forward(context& ctx, float* out, float* mean, float* rstd, const float* x, const float* w,
                       const float* b, std::int64_t rows, std::int64_t cols, float eps) {
    kernels::require_nonnegative("layernorm_forward", "rows", rows);
    kernels::require_positive("layernorm_forward", "cols", cols);
    kernels::require_pointers("layernorm_forward", rows, {{"out", out}, {"mean", mean}, {"rstd", rstd}, {"x", x}});
    detail::launch_warp_rows(ctx, rows, detail::layernorm_forward_fn{out, mean, rstd, x, w, b, cols, eps});
}

void layernorm_backward(context& ctx, float* dx, float* dw, float* db, const float* dout, const float* x,
                        const float* w, const float* mean, const float* rstd, std::int64_t rows, std::int64_t cols) {
    kernels::require_nonnegative("layernorm_backward", "rows", rows);
    kernels::require_positive("layernorm_backward", "cols", cols);
    kernels::require_pointers("layernorm_backward", rows,
                              {{"dx", dx}, {"dout", dout}, {"x", x}, {"mean", mean}, {"rstd", rstd}});
    detail::launch_warp_rows(ctx, rows, detail::layernorm_backward_fn{dx, dout, x, w, mean, rstd, cols});
    if (dw)
        detail::launch_elements(
            ctx, cols,
            detail::accumulate_columns_fn<detail::layernorm_dw_term_fn>{dw, rows, cols, {dout, x, mean, rstd, cols}});
    if (db)
        detail::launch_elements(ctx, cols,
                                detail::accumulate_columns_fn<detail::matrix_term>{db, rows, cols, {dout, cols}});
}

void rmsnorm_forward(context& ctx, float* out, float* rstd, const float* x, const float* w, std::int64_t rows,
                     std::int64_t cols, float eps) {
    kernels::require_nonnegative("rmsnorm_forward", "rows", rows);
    kernels::require_positive("rmsnorm_forward", "cols", cols);
    kernels::require_pointers("rmsnorm_forward", rows, {{"out", out}, {"rstd", rstd}, {"x", x}});
    detail::launch_warp_rows(ctx, rows, detail::rmsnorm_forward_fn{out, rstd, x, w, cols, eps});
}

void rmsnorm_backward(context& ctx, float* dx, float* dw, const float* dout, const float* x, const float* w,
                      const float* rstd, std::int64_t rows, std::int64_t cols) {
    kernels::require_nonnegative("rmsnorm_backward", "rows", rows);
    kernels::require_positive("rmsnorm_backward", "cols", cols);
    kernels::require_pointers("rmsnorm_backward", rows, {{"dx", dx}, {"dout", dout}, {"x", x}, {"rstd", rstd}});
    detail::launch_warp_rows(ctx, rows, detail::rmsnorm_backward_fn{dx, dout, x, w, rstd, cols});
    if (dw)
        detail::launch_elements(
            ctx, cols,
            detail::accumulate_columns_fn<detail::rmsnorm_dw_term_fn>{dw, rows, cols, {dout, x, rstd, cols}});
}

}  // namespace hoprag::cuda
