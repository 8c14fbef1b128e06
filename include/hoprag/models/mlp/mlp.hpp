// A two-layer perceptron classifier built from the backend op set: logits = W2·gelu(W1·x + b1) + b2.
// It is the smallest model with a real forward/backward through GEMM, bias, GELU and
// cross-entropy, used by the demo and as the test model of the training infrastructure.
// Parameters and gradients are plain structs walked with Boost.PFR (DESIGN rule 3).
#pragma once

#include <boost/pfr.hpp>

#include <cstdint>
#include <vector>

#include "hoprag/backend/buffer.hpp"
#include "hoprag/backend/ops.hpp"

namespace hoprag::mlp {

struct config {
    std::int64_t inputs = 0;   // features per example
    std::int64_t hidden = 0;   // hidden units
    std::int64_t classes = 0;  // output classes
};

/// Parameters (or gradients) of the MLP in the backend's memory.
template <class Context>
struct parameters {
    buffer<Context, float> w1;  // [inputs, hidden]
    buffer<Context, float> b1;  // [hidden]
    buffer<Context, float> w2;  // [hidden, classes]
    buffer<Context, float> b2;  // [classes]
};

/// Activations of one batch, kept by forward for backward.
template <class Context>
struct activations {
    buffer<Context, float> pre;     // [batch, hidden] W1·x + b1
    buffer<Context, float> hidden;  // [batch, hidden] gelu(pre)
    buffer<Context, float> logits;  // [batch, classes]
    buffer<Context, float> loss;    // [batch] per-example cross-entropy
    buffer<Context, float> lse;     // [batch] log-sum-exp of the logits
};

template <class Context>
parameters<Context> allocate_parameters(Context& ctx, const config& c) {
    return {buffer<Context, float>(ctx, c.inputs * c.hidden), buffer<Context, float>(ctx, c.hidden),
            buffer<Context, float>(ctx, c.hidden * c.classes), buffer<Context, float>(ctx, c.classes)};
}

template <class Context>
activations<Context> allocate_activations(Context& ctx, const config& c, std::int64_t batch) {
    return {buffer<Context, float>(ctx, batch * c.hidden), buffer<Context, float>(ctx, batch * c.hidden),
            buffer<Context, float>(ctx, batch * c.classes), buffer<Context, float>(ctx, batch),
            buffer<Context, float>(ctx, batch)};
}

/// Kaiming-uniform weights (bound 1/sqrt(fan_in)) from the context's RNG, zero biases.
template <class Context>
void initialize(Context& ctx, const config& c, parameters<Context>& p) {
    auto fill = [&](buffer<Context, float>& b, std::int64_t fan_in, std::uint64_t stream) {
        std::vector<float> h(b.size(), 0.0f);
        if (fan_in > 0) {
            const float bound = 1.0f / std::sqrt(static_cast<float>(fan_in));
            const auto rng = ctx.rng(stream);
            for (std::size_t i = 0; i < h.size(); ++i) h[i] = bound * (2.0f * rng.uniform(i) - 1.0f);
        }
        b.assign(h);
    };
    fill(p.w1, c.inputs, 1);
    fill(p.b1, 0, 0);
    fill(p.w2, c.hidden, 2);
    fill(p.b2, 0, 0);
}

/// Set every gradient to zero (PFR walk over the struct's fields; a fill, so NaNs are cleared too).
template <class Context>
void zero(Context& ctx, parameters<Context>& g) {
    boost::pfr::for_each_field(g, [&](auto& b) { zero_fill(ctx, b.data(), static_cast<std::int64_t>(b.size())); });
}

/// Total number of parameters.
template <class Context>
std::int64_t count(const parameters<Context>& p) {
    std::int64_t n = 0;
    boost::pfr::for_each_field(p, [&](const auto& b) { n += static_cast<std::int64_t>(b.size()); });
    return n;
}

/// Forward for `batch` examples x [batch, inputs] with class labels y [batch] (-1 = ignore):
/// fills `a` (per-example losses in a.loss).
template <class Context>
void forward(Context& ctx, const config& c, const parameters<Context>& p, activations<Context>& a, const float* x,
             const std::int32_t* y, std::int64_t batch) {
    gemm_desc d1{.m = batch, .n = c.hidden, .k = c.inputs, .bias = p.b1.data()};
    gemm(ctx, packed(d1), x, p.w1.data(), a.pre.data());
    gelu_forward(ctx, a.hidden.data(), a.pre.data(), batch * c.hidden, gelu_kind::erf);
    gemm_desc d2{.m = batch, .n = c.classes, .k = c.hidden, .bias = p.b2.data()};
    gemm(ctx, packed(d2), a.hidden.data(), p.w2.data(), a.logits.data());
    cross_entropy_forward(ctx, a.loss.data(), a.lse.data(), a.logits.data(), y, batch, c.classes, -1);
}

/// Backward of the mean loss over `valid` examples: accumulates into `g`. `scratch` must hold
/// batch * max(hidden, classes) floats.
template <class Context>
void backward(Context& ctx, const config& c, const parameters<Context>& p, const activations<Context>& a,
              parameters<Context>& g, buffer<Context, float>& scratch_logits, buffer<Context, float>& scratch_hidden,
              const float* x, const std::int32_t* y, std::int64_t batch, std::int64_t valid) {
    float* dlogits = scratch_logits.data();  // [batch, classes]
    float* dhidden = scratch_hidden.data();  // [batch, hidden]
    cross_entropy_backward(ctx, dlogits, a.logits.data(), a.lse.data(), y, 1.0f / static_cast<float>(valid), batch,
                           c.classes, -1);
    // dW2 += hidden^T · dlogits, db2 += sum over rows
    gemm_desc dw2{.m = c.hidden, .n = c.classes, .k = batch, .trans_a = true, .beta = 1.0f};
    gemm(ctx, packed(dw2), a.hidden.data(), dlogits, g.w2.data());
    sum_rows(ctx, g.b2.data(), dlogits, batch, c.classes);
    // dhidden = dlogits · W2^T, then through GELU (in place: dpre overwrites dhidden)
    gemm_desc dh{.m = batch, .n = c.hidden, .k = c.classes, .trans_b = true};
    gemm(ctx, packed(dh), dlogits, p.w2.data(), dhidden);
    gelu_backward(ctx, dhidden, dhidden, a.pre.data(), batch * c.hidden, gelu_kind::erf);
    gemm_desc dw1{.m = c.inputs, .n = c.hidden, .k = batch, .trans_a = true, .beta = 1.0f};
    gemm(ctx, packed(dw1), x, dhidden, g.w1.data());
    sum_rows(ctx, g.b1.data(), dhidden, batch, c.hidden);
}

}  // namespace hoprag::mlp
