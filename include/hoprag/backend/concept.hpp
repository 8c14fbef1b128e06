// The Backend concept (DESIGN rule 5): what a backend policy type must provide. A backend is a
// type with a nested `context` and a static `name`; its memory functions and ops are free
// functions found by argument-dependent lookup on that context, with the same signatures on every
// backend (see backend/ops.hpp for the conventions). Components `static_assert(backend<B>)` so a
// missing op is named at compile time instead of failing deep inside a template.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>

#include "hoprag/backend/ops.hpp"
#include "hoprag/backend/profile.hpp"
#include "hoprag/core/context.hpp"

namespace hoprag {

/// Memory of a backend: allocate/deallocate and host <-> backend copies.
template <class B>
concept backend_memory = requires(typename B::context& c, void* p, const void* cp, std::size_t n) {
    { allocate(c, n) } -> std::same_as<void*>;
    deallocate(c, p);
    upload(c, p, cp, n);
    download(c, p, cp, n);
    synchronize(c);
};

/// The core op set, forward and backward (f32 activations; see backend/ops.hpp).
template <class B>
concept backend_ops = requires(typename B::context& c, float* o, const float* x, const std::int32_t* ids,
                               std::int32_t* idx, std::int64_t n, float s, dtype t, void* v, const void* cv,
                               const gemm_desc& g, const attention_desc& a) {
    gemm(c, g, cv, cv, v);
    add(c, o, x, x, n);
    scale(c, o, x, s, n);
    zero_fill(c, o, n);
    cast(c, v, t, cv, t, n);
    sum_rows(c, o, x, n, n);
    layernorm_forward(c, o, o, o, x, x, x, n, n, s);
    layernorm_backward(c, o, o, o, x, x, x, x, x, n, n);
    rmsnorm_forward(c, o, o, x, x, n, n, s);
    rmsnorm_backward(c, o, o, x, x, x, x, n, n);
    gelu_forward(c, o, x, n, gelu_kind::erf);
    gelu_backward(c, o, x, x, n, gelu_kind::erf);
    silu_forward(c, o, x, n);
    silu_backward(c, o, x, x, n);
    swiglu_forward(c, o, x, x, n);
    swiglu_backward(c, o, o, x, x, x, n);
    softmax_forward(c, o, x, n, n, ids);
    softmax_backward(c, o, x, x, n, n);
    attention_forward(c, a, o, o, x, x, x);
    attention_backward(c, a, o, o, o, x, x, x, x, x);
    rope_forward(c, o, ids, n, n, n, n, s, rope_style::half);
    rope_backward(c, o, ids, n, n, n, n, s, rope_style::half);
    embedding_forward(c, o, ids, x, n, n, n);
    embedding_backward(c, o, ids, x, n, n, n);
    cross_entropy_forward(c, o, o, x, ids, n, n, std::int32_t{-1});
    cross_entropy_backward(c, o, x, x, ids, s, n, n, std::int32_t{-1});
    topk(c, o, idx, x, n, n, n);
    { sum_squares(c, x, n) } -> std::convertible_to<double>;
};

/// A backend policy type: `B::context` derives from hoprag::context, `B::name` names it,
/// `B::detect_profile()` gives the hardware profile it runs under (backend/profile.hpp), and its
/// memory functions and ops exist for that context.
template <class B>
concept backend = std::derived_from<typename B::context, hoprag::context> &&
                  std::convertible_to<decltype(B::name), const char*> && requires {
                      { B::detect_profile() } -> std::same_as<profile_info>;
                  } && backend_memory<B> && backend_ops<B>;

}  // namespace hoprag
