// xtensor views of host buffers. `xt_adapt<Rank>(data, dims)` wraps a contiguous host buffer (a
// std::span or std::vector) in a row-major xtensor adaptor with hoprag's extents, without copying
// and without taking ownership, after checking that the extents cover the buffer exactly: host
// code can then index, slice, transpose and reduce with xtensor instead of writing offset
// arithmetic by hand. A fixed `Rank` gives an xt::xtensor_adaptor (rank checked at run time);
// the default, `dynamic_rank`, gives an xt::xarray_adaptor. Views of file tensors build on this
// (io/xt_views.hpp). Host-only: device code keeps using hoprag::view.
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include <xtensor/xadapt.hpp>
#include <xtensor/xshape.hpp>

#include "hoprag/core/error.hpp"
#include "hoprag/core/shape.hpp"

namespace hoprag {

/// Rank argument of xt_adapt for a view whose rank is known only at run time.
inline constexpr std::size_t dynamic_rank = static_cast<std::size_t>(-1);

/// Row-major xtensor adaptor over `data` with extents `dims`; element (i, j, ...) is
/// data[(i * dims[1] + j) * ...]. No copy, no ownership: `data` must outlive the adaptor, and
/// writes through it land in `data` (read-only when T is const). Rank == dynamic_rank gives an
/// xt::xarray_adaptor, any other Rank an xt::xtensor_adaptor of that rank.
/// Throws shape_error when dims.numel() != data.size(), or when a fixed Rank != dims.rank.
template <std::size_t Rank = dynamic_rank, class T>
auto xt_adapt(std::span<T> data, const shape& dims) {
    if (dims.numel() != static_cast<std::int64_t>(data.size()))
        throw shape_error("xt_adapt: shape " + dims.str() + " holds " + std::to_string(dims.numel()) + " elements but the buffer holds " +
                          std::to_string(data.size()));
    if constexpr (Rank == dynamic_rank) {
        xt::dynamic_shape<std::size_t> extents(static_cast<std::size_t>(dims.rank));
        for (int i = 0; i < dims.rank; ++i) extents[static_cast<std::size_t>(i)] = static_cast<std::size_t>(dims[i]);
        return xt::adapt(data.data(), data.size(), xt::no_ownership(), extents);
    } else {
        if (static_cast<std::size_t>(dims.rank) != Rank)
            throw shape_error("xt_adapt: shape " + dims.str() + " has rank " + std::to_string(dims.rank) + ", the view was asked for rank " +
                              std::to_string(Rank));
        std::array<std::size_t, Rank> extents{};
        for (std::size_t i = 0; i < Rank; ++i) extents[i] = static_cast<std::size_t>(dims[static_cast<int>(i)]);
        return xt::adapt(data.data(), data.size(), xt::no_ownership(), extents);
    }
}

/// Writable view of a vector's elements (same checks as the span overload).
template <std::size_t Rank = dynamic_rank, class T>
auto xt_adapt(std::vector<T>& data, const shape& dims) {
    return xt_adapt<Rank>(std::span<T>(data), dims);
}

/// Read-only view of a vector's elements (same checks as the span overload).
template <std::size_t Rank = dynamic_rank, class T>
auto xt_adapt(const std::vector<T>& data, const shape& dims) {
    return xt_adapt<Rank>(std::span<const T>(data), dims);
}

/// A view of a temporary vector would dangle at the end of the statement.
template <std::size_t Rank = dynamic_rank, class T>
void xt_adapt(std::vector<T>&& data, const shape& dims) = delete;

}  // namespace hoprag
