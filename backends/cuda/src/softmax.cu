// CUDA softmax forward/backward (declared in hoprag/cuda/softmax.hpp).
#include <string>

#include "hoprag/cuda/check.cuh"
#include "hoprag/cuda/softmax.cuh"
#include "hoprag/cuda/softmax.hpp"

namespace hoprag::cuda {

namespace {
constexpr unsigned softmax_threads = 128;

void check_rows(const char* op, std::int64_t rows, std::int64_t cols) {
    if (rows < 0 || cols < 0)
        throw shape_error(std::string(op) + ": rows and cols must be >= 0, found " + std::to_string(rows) + ", " +
                          std::to_string(cols));
}
}  // namespace

void softmax_forward(context& ctx, float* out, const float* x, std::int64_t rows, std::int64_t cols,
                     const std::int32_t* row_limit) {
    check_rows("softmax_forward", rows, cols);
    if (rows == 0) return;
    detail::softmax_forward_kernel<<<detail::blocks_for(rows, softmax_threads), softmax_threads, 0, HOPRAG_STREAM(ctx)>>>(
        out, x, rows, cols, row_limit);
    HOPRAG_CUDA_CHECK_LAUNCH();
}

void softmax_backward(context& ctx, float* dx, const float* dout, const float* out, std::int64_t rows, std::int64_t cols) {
    check_rows("softmax_backward", rows, cols);
    if (rows == 0) return;
    detail::softmax_backward_kernel<<<detail::blocks_for(rows, softmax_threads), softmax_threads, 0, HOPRAG_STREAM(ctx)>>>(
        dx, dout, out, rows, cols);
    HOPRAG_CUDA_CHECK_LAUNCH();
}

}  // namespace hoprag::cuda
