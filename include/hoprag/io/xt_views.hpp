// Zero-copy xtensor views of tensors in mapped model files. `xt_view<T, Rank>(tensor)` reads a
// safetensors or GGUF tensor in place as a read-only row-major xtensor adaptor of T, through
// xt_adapt (core/xt_adapt.hpp): no bytes are copied, and the view stays valid while the
// safetensors_file / gguf_file that owns the mapping lives. T must be the stored element type
// exactly (float for F32, bf16 for BF16, ...): a view never converts, so a different dtype, a
// quantised GGUF type or data not aligned for T throws format_error that names the tensor and
// points at the converting readers (to_f32, dequantize). GGUF stores extents innermost-first
// (ggml's ne[0] is the fastest); the view's shape is row-major, ne reversed, i.e.
// gguf_tensor::dims(): a matrix with ne = {cols, rows} is viewed as [rows, cols].
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <type_traits>

#include "hoprag/core/dtype.hpp"
#include "hoprag/core/error.hpp"
#include "hoprag/core/xt_adapt.hpp"
#include "hoprag/io/gguf.hpp"
#include "hoprag/io/safetensors.hpp"

namespace hoprag::io {

namespace detail {

/// The safetensors dtype whose elements are stored as T.
template <class T>
constexpr st_dtype st_dtype_for() {
    if constexpr (std::is_same_v<T, double>) return st_dtype::f64;
    else if constexpr (std::is_same_v<T, float>) return st_dtype::f32;
    else if constexpr (std::is_same_v<T, f16>) return st_dtype::f16;
    else if constexpr (std::is_same_v<T, bf16>) return st_dtype::bf16;
    else if constexpr (std::is_same_v<T, std::int64_t>) return st_dtype::i64;
    else if constexpr (std::is_same_v<T, std::int32_t>) return st_dtype::i32;
    else if constexpr (std::is_same_v<T, std::int16_t>) return st_dtype::i16;
    else if constexpr (std::is_same_v<T, std::int8_t>) return st_dtype::i8;
    else if constexpr (std::is_same_v<T, std::uint64_t>) return st_dtype::u64;
    else if constexpr (std::is_same_v<T, std::uint32_t>) return st_dtype::u32;
    else if constexpr (std::is_same_v<T, std::uint16_t>) return st_dtype::u16;
    else if constexpr (std::is_same_v<T, std::uint8_t>) return st_dtype::u8;
    else static_assert(sizeof(T) == 0, "xt_view of a safetensors tensor: T must be double, float, f16, bf16 or a fixed-width integer");
}

/// The ggml type whose elements are stored as T.
template <class T>
constexpr ggml_type ggml_type_for() {
    if constexpr (std::is_same_v<T, double>) return ggml_type::f64;
    else if constexpr (std::is_same_v<T, float>) return ggml_type::f32;
    else if constexpr (std::is_same_v<T, f16>) return ggml_type::f16;
    else if constexpr (std::is_same_v<T, bf16>) return ggml_type::bf16;
    else if constexpr (std::is_same_v<T, std::int64_t>) return ggml_type::i64;
    else if constexpr (std::is_same_v<T, std::int32_t>) return ggml_type::i32;
    else if constexpr (std::is_same_v<T, std::int16_t>) return ggml_type::i16;
    else if constexpr (std::is_same_v<T, std::int8_t>) return ggml_type::i8;
    else static_assert(sizeof(T) == 0, "xt_view of a GGUF tensor: T must be double, float, f16, bf16 or a signed fixed-width integer");
}

/// `bytes` read as numel elements of T; format_error (prefixed by `what`) if a non-empty `bytes`
/// is not aligned for T.
template <class T>
std::span<const T> typed_elements(std::span<const std::byte> bytes, std::int64_t numel, const std::string& what) {
    if (!bytes.empty() && reinterpret_cast<std::uintptr_t>(bytes.data()) % alignof(T) != 0)
        throw format_error(what + ": data is not aligned to the " + std::to_string(alignof(T)) +
                           " bytes its elements need, so it cannot be viewed in place; convert it instead");
    return {reinterpret_cast<const T*>(bytes.data()), static_cast<std::size_t>(numel)};
}

}  // namespace detail

/// Read-only row-major view of `t` (shape t.dims) as elements of T, without copying. Rank as in
/// xt_adapt. Throws format_error when the stored dtype is not T's or the data is not aligned for T
/// (use t.to_f32() to convert), shape_error when a fixed Rank != t.dims.rank.
template <class T, std::size_t Rank = dynamic_rank>
auto xt_view(const safetensors_tensor& t) {
    constexpr st_dtype want = detail::st_dtype_for<T>();
    const std::string what = "safetensors tensor '" + t.name + "'";
    if (t.type != want)
        throw format_error(what + " holds " + std::string(st_dtype_name(t.type)) + ", not the " + std::string(st_dtype_name(want)) +
                           " the view asks for; use to_f32() to convert");
    return xt_adapt<Rank>(detail::typed_elements<T>(t.bytes, t.numel(), what), t.dims);
}

/// Read-only row-major view of `t` (shape t.dims(), ggml's ne reversed) as elements of T, without
/// copying. Rank as in xt_adapt. Throws format_error when t is quantised, when its type is not
/// T's (use dequantize to convert) or when the data is not aligned for T; shape_error when a
/// fixed Rank != t.n_dims.
template <class T, std::size_t Rank = dynamic_rank>
auto xt_view(const gguf_tensor& t) {
    constexpr ggml_type want = detail::ggml_type_for<T>();
    const std::string what = "gguf tensor '" + std::string(t.name) + "'";
    if (ggml_traits(t.type).block_size != 1)
        throw format_error(what + " is quantised (" + std::string(ggml_type_name(t.type)) +
                           "), so it has no elements to view; use dequantize to convert");
    if (t.type != want)
        throw format_error(what + " holds " + std::string(ggml_type_name(t.type)) + ", not the " + std::string(ggml_type_name(want)) +
                           " the view asks for; use dequantize to convert");
    return xt_adapt<Rank>(detail::typed_elements<T>(t.bytes, static_cast<std::int64_t>(t.numel()), what), t.dims());
}

}  // namespace hoprag::io
