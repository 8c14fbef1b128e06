// CUDA sequence pooling (see hoprag/cuda/pooling.hpp): checks sizes on the host and launches one
// warp per sequence.
#include "hoprag/cuda/pooling.cuh"
#include "hoprag/cuda/pooling.hpp"
#include "hoprag/kernels/checks.hpp"

namespace hoprag::cuda {

void sequence_pool(context& ctx, float* out, const float* x, const std::int32_t* valid, std::int64_t batch,
                   std::int64_t seq, std::int64_t dim, kernels::pooling_kind kind, bool normalize) {
    kernels::require_nonnegative("sequence_pool", "batch", batch);
    kernels::require_positive("sequence_pool", "seq", seq);
    kernels::require_positive("sequence_pool", "dim", dim);
    kernels::require_pointers("sequence_pool", batch, {{"out", out}, {"x", x}, {"valid", valid}});
    detail::launch_warp_rows(ctx, batch, detail::sequence_pool_fn{out, x, valid, seq, dim, kind, normalize});
}

}  // namespace hoprag::cuda
