// CPU launchers of the optimiser ops: the AdamW update (an OpenMP loop over the shared kernel body
// hoprag::train::adamw_element), the sum of squares used by global-norm clipping and by the
// inf/NaN check of dynamic loss scaling, an in-place scale and zero fill for gradient buffers.
// Every result is independent of the thread count: the update is element-wise and the sum of
// squares adds fixed-size chunks in double, then the chunk sums in index order.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>
#include <vector>

#include "hoprag/cpu/context.hpp"
#include "hoprag/train/adamw.hpp"

namespace hoprag::cpu {

namespace detail {
template <class Low>
void adamw_loop(const train::adamw_tensor& t, const train::adamw_step& s) {
    Low* low = static_cast<Low*>(t.low_copy);
#pragma omp parallel for schedule(static) if (t.n > (1 << 16))
    for (std::int64_t i = 0; i < t.n; ++i) {
        const float w = train::adamw_element(t.param[i], t.m[i], t.v[i], t.grad[i], s);
        if constexpr (!std::is_same_v<Low, void>) low[i] = from_float<Low>(w);
    }
}
}  // namespace detail

/// AdamW step over one tensor with the step scalars `s` (weight decay dropped when !t.decay);
/// writes t.low_copy as bf16/f16 when set. Throws shape_error/config_error on a bad descriptor.
inline void adamw_update(context&, const train::adamw_tensor& t, train::adamw_step s) {
    train::validate(t);
    if (!t.decay) s.weight_decay = 0.0f;
    if (!t.low_copy) detail::adamw_loop<void>(t, s);
    else if (t.low_type == dtype::bf16) detail::adamw_loop<bf16>(t, s);
    else detail::adamw_loop<f16>(t, s);
}

/// AdamW step over `count` tensors of a model.
inline void adamw_update(context& ctx, const train::adamw_tensor* tensors, std::size_t count, const train::adamw_step& s) {
    for (std::size_t i = 0; i < count; ++i) adamw_update(ctx, tensors[i], s);
}

/// AdamW step over every tensor of a model.
inline void adamw_update(context& ctx, std::span<const train::adamw_tensor> tensors, const train::adamw_step& s) {
    for (const auto& t : tensors) adamw_update(ctx, t, s);
}

/// sum_i x[i]^2 accumulated in double over x[0, n). Not finite iff some x[i] is inf or NaN
/// (squares of finite floats cannot overflow a double). Deterministic for any thread count.
inline double sum_squares(context&, const float* x, std::int64_t n) {
    constexpr std::int64_t chunk = 4096;
    const std::int64_t chunks = (n + chunk - 1) / chunk;
    std::vector<double> part(static_cast<std::size_t>(chunks), 0.0);
#pragma omp parallel for schedule(static) if (chunks > 16)
    for (std::int64_t c = 0; c < chunks; ++c) {
        double acc = 0.0;
        const std::int64_t end = std::min(n, (c + 1) * chunk);
        for (std::int64_t i = c * chunk; i < end; ++i) acc += static_cast<double>(x[i]) * x[i];
        part[static_cast<std::size_t>(c)] = acc;
    }
    double total = 0.0;
    for (double p : part) total += p;
    return total;
}

}  // namespace hoprag::cpu
