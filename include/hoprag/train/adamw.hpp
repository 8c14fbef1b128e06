// AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019) with fp32 master
// weights and fp32 first/second moments. The per-element update `adamw_element` is the one kernel
// body (DESIGN rule 2): the CPU backend loops over it (hoprag/cpu/adamw.hpp) and the CUDA backend
// launches it (hoprag/cuda/adamw.hpp). Per step the host turns the hyper-parameters, the step count
// and the learning rate of the schedule into one `adamw_step` of scalars (bias corrections
// included); each parameter tensor is described by an `adamw_tensor` whose `decay` flag is the
// weight-decay mask (biases and norm gains usually off) and which may ask for a bf16/f16 copy of
// the updated weights for mixed-precision forward passes. The update matches torch.optim.AdamW:
//   m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
//   w = w - lr * wd * w - lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)
// where g is the stored gradient times `grad_scale` (1/loss-scale, clipping and accumulation
// factors folded into one multiply).
#pragma once

#include <cmath>
#include <cstdint>
#include <string>

#include "hoprag/core/config.hpp"
#include "hoprag/core/dtype.hpp"
#include "hoprag/core/error.hpp"

namespace hoprag::train {

/// AdamW hyper-parameters (constant over a run; the learning rate comes from a schedule).
struct adamw_hparams {
    float beta1 = 0.9f;
    float beta2 = 0.999f;
    float eps = 1e-8f;
    float weight_decay = 0.01f;  // decoupled decay, applied to tensors whose `decay` flag is set
};

/// Throws config_error naming the bad field when `h` is not usable.
inline void validate(const adamw_hparams& h) {
    auto bad = [](const char* field, float value, const char* want) {
        throw config_error(std::string("adamw: ") + field + " = " + std::to_string(value) + " is invalid; expected " + want);
    };
    if (!(h.beta1 >= 0.0f && h.beta1 < 1.0f)) bad("beta1", h.beta1, "0 <= beta1 < 1");
    if (!(h.beta2 >= 0.0f && h.beta2 < 1.0f)) bad("beta2", h.beta2, "0 <= beta2 < 1");
    if (!(h.eps > 0.0f)) bad("eps", h.eps, "eps > 0");
    if (!(h.weight_decay >= 0.0f)) bad("weight_decay", h.weight_decay, "weight_decay >= 0");
}

/// The scalars of one optimiser step, shared by every element of every tensor.
struct adamw_step {
    float lr = 0.0f;            // learning rate of this step (from the schedule)
    float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
    float weight_decay = 0.0f;  // decoupled decay; adamw_update zeroes it for tensors with decay = false
    float bias_correction1 = 1.0f;  // 1 - beta1^t
    float bias_correction2 = 1.0f;  // 1 - beta2^t
    float grad_scale = 1.0f;    // gradients are multiplied by this before use
};

/// The scalars of step `t` (1-based: the first update is t = 1) at learning rate `lr`, with the
/// gradient multiplier `grad_scale`. Bias corrections are computed in double and rounded once.
inline adamw_step make_adamw_step(const adamw_hparams& h, std::int64_t t, float lr, float grad_scale = 1.0f) {
    validate(h);
    if (t < 1) throw config_error("adamw: step t = " + std::to_string(t) + " is invalid; the first step is t = 1");
    if (!(lr >= 0.0f) || !std::isfinite(lr)) throw config_error("adamw: learning rate " + std::to_string(lr) + " is invalid; expected a finite lr >= 0");
    if (!std::isfinite(grad_scale)) throw config_error("adamw: grad_scale is not finite");
    adamw_step s;
    s.lr = lr;
    s.beta1 = h.beta1;
    s.beta2 = h.beta2;
    s.eps = h.eps;
    s.weight_decay = h.weight_decay;
    s.bias_correction1 = static_cast<float>(1.0 - std::pow(static_cast<double>(h.beta1), static_cast<double>(t)));
    s.bias_correction2 = static_cast<float>(1.0 - std::pow(static_cast<double>(h.beta2), static_cast<double>(t)));
    s.grad_scale = grad_scale;
    return s;
}

/// One parameter tensor seen by the optimiser; every pointer is in the backend's memory space and
/// points at `n` elements. `grad` is read only; `param`, `m`, `v` are updated in place.
struct adamw_tensor {
    float* param = nullptr;        // [n] fp32 master weights
    float* m = nullptr;            // [n] first moment (start at 0)
    float* v = nullptr;            // [n] second moment (start at 0)
    const float* grad = nullptr;   // [n] gradient (f32, before grad_scale)
    std::int64_t n = 0;
    bool decay = true;             // weight-decay mask: false = no decay for this tensor
    void* low_copy = nullptr;      // [n] optional bf16/f16 copy of the updated weights, or nullptr
    dtype low_type = dtype::bf16;  // bf16 or f16 (only read when low_copy is set)
    const char* name = "";         // for error messages
};

/// Throws shape_error / config_error naming the tensor when `t` cannot be updated.
inline void validate(const adamw_tensor& t) {
    const std::string who = std::string("adamw: tensor '") + (t.name ? t.name : "") + "'";
    if (t.n < 0) throw shape_error(who + " has negative size " + std::to_string(t.n));
    if (t.n > 0 && (!t.param || !t.m || !t.v || !t.grad))
        throw shape_error(who + " of " + std::to_string(t.n) + " elements lacks a param, m, v or grad pointer");
    if (t.low_copy && t.low_type != dtype::bf16 && t.low_type != dtype::f16)
        throw config_error(who + ": low-precision copy type " + std::string(dtype_name(t.low_type)) + " is unsupported; expected bf16 or f16");
}

/// The AdamW update of one element: updates w, m, v in place and returns the new w.
HOPRAG_INLINE float adamw_element(float& w, float& m, float& v, float g, const adamw_step& s) {
    // every product through mul_rn: nvcc would fuse them with the adds, and the CUDA update must
    // equal the CPU one bit for bit (its first moments differed by up to ~3 ulp of the terms)
    g = mul_rn(g, s.grad_scale);
    m = mul_rn(s.beta1, m) + mul_rn(1.0f - s.beta1, g);
    v = mul_rn(s.beta2, v) + mul_rn(1.0f - s.beta2, mul_rn(g, g));
    const float m_hat = m / s.bias_correction1;
    const float denom = sqrtf(v / s.bias_correction2) + s.eps;
    w = w - mul_rn(s.lr * s.weight_decay, w) - mul_rn(s.lr, m_hat / denom);
    return w;
}

}  // namespace hoprag::train
