// CUDA elementwise ops (see hoprag/cuda/elementwise.hpp): host entry points that check sizes and
// launch the functors of hoprag/cuda/elementwise.cuh on the context's stream.
#include <string>

#include "hoprag/core/error.hpp"
#include "hoprag/cuda/elementwise.cuh"
#include "hoprag/cuda/elementwise.hpp"
#include "hoprag/cuda/launch.cuh"
#include "hoprag/kernels/checks.hpp"

namespace hoprag::cuda {

namespace {

template <class From>
void cast_from(context& ctx, void* out, dtype to, const void* x, std::int64_t n) {
    const auto* in = static_cast<const From*>(x);
    switch (to) {
        case dtype::f32:
            return detail::launch_elements(ctx, n, detail::cast_fn<float, From>{static_cast<float*>(out), in});
        case dtype::bf16:
            return detail::launch_elements(ctx, n, detail::cast_fn<bf16, From>{static_cast<bf16*>(out), in});
        case dtype::f16:
            return detail::launch_elements(ctx, n, detail::cast_fn<f16, From>{static_cast<f16*>(out), in});
        default:
            break;
    }
    throw config_error("cast: target type must be f32, bf16 or f16, got " + std::string(dtype_name(to)));
}

}  // namespace

void add(context& ctx, float* out, const float* x, const float* y, std::int64_t n) {
    kernels::require_nonnegative("add", "n", n);
    detail::launch_elements(ctx, n, detail::add_fn{out, x, y});
}

void scale(context& ctx, float* out, const float* x, float s, std::int64_t n) {
    kernels::require_nonnegative("scale", "n", n);
    detail::launch_elements(ctx, n, detail::scale_fn{out, x, s});
}

void zero_fill(context& ctx, float* x, std::int64_t n) {
    if (n <= 0) return;
    HOPRAG_CUDA_CHECK(cudaMemsetAsync(x, 0, static_cast<std::size_t>(n) * sizeof(float), HOPRAG_STREAM(ctx)));
}

void cast(context& ctx, void* out, dtype to, const void* x, dtype from, std::int64_t n) {
    kernels::require_nonnegative("cast", "n", n);
    switch (from) {
        case dtype::f32:
            return cast_from<float>(ctx, out, to, x, n);
        case dtype::bf16:
            return cast_from<bf16>(ctx, out, to, x, n);
        case dtype::f16:
            return cast_from<f16>(ctx, out, to, x, n);
        default:
            break;
    }
    throw config_error("cast: source type must be f32, bf16 or f16, got " + std::string(dtype_name(from)));
}

void sum_rows(context& ctx, float* out, const float* x, std::int64_t rows, std::int64_t cols) {
    kernels::require_nonnegative("sum_rows", "rows", rows);
    kernels::require_nonnegative("sum_rows", "cols", cols);
    detail::launch_elements(ctx, cols, detail::accumulate_columns_fn<detail::matrix_term>{out, rows, cols, {x, cols}});
}

void gelu_forward(context& ctx, float* out, const float* x, std::int64_t n, gelu_kind kind) {
    kernels::require_nonnegative("gelu_forward", "n", n);
    detail::launch_elements(ctx, n, detail::gelu_forward_fn{out, x, kind});
}

void gelu_backward(context& ctx, float* dx, const float* dout, const float* x, std::int64_t n, gelu_kind kind) {
    kernels::require_nonnegative("gelu_backward", "n", n);
    detail::launch_elements(ctx, n, detail::gelu_backward_fn{dx, dout, x, kind});
}

void silu_forward(context& ctx, float* out, const float* x, std::int64_t n) {
    kernels::require_nonnegative("silu_forward", "n", n);
    detail::launch_elements(ctx, n, detail::silu_forward_fn{out, x});
}

void silu_backward(context& ctx, float* dx, const float* dout, const float* x, std::int64_t n) {
    kernels::require_nonnegative("silu_backward", "n", n);
    detail::launch_elements(ctx, n, detail::silu_backward_fn{dx, dout, x});
}

void swiglu_forward(context& ctx, float* out, const float* gate, const float* up, std::int64_t n) {
    kernels::require_nonnegative("swiglu_forward", "n", n);
    detail::launch_elements(ctx, n, detail::swiglu_forward_fn{out, gate, up});
}

void swiglu_backward(context& ctx, float* dgate, float* dup, const float* dout, const float* gate, const float* up,
                     std::int64_t n) {
    kernels::require_nonnegative("swiglu_backward", "n", n);
    detail::launch_elements(ctx, n, detail::swiglu_backward_fn{dgate, dup, dout, gate, up});
}

}  // namespace hoprag::cuda
