// Shapes and strided views. A `shape` is up to 6 extents (row-major, last dimension fastest); a
// `view<T>` is a non-owning pointer + shape + strides in elements. Views never allocate; they are
// what ops, tests and file readers pass around. All index math is host/device so the same layout
// code runs in kernels (CuTe's lesson: layout math identical on both sides).
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>

#include "hoprag/core/config.hpp"
#include "hoprag/core/error.hpp"

namespace hoprag {

inline constexpr int max_rank = 6;

/// Extents of a tensor, row-major. rank 0 is a scalar (numel 1).
struct shape {
    std::array<std::int64_t, max_rank> dims{};  // [rank] extents, each >= 0
    int rank = 0;

    shape() = default;
    shape(std::initializer_list<std::int64_t> d) {
        if (d.size() > max_rank) throw shape_error("shape: rank " + std::to_string(d.size()) + " exceeds max_rank 6");
        for (auto x : d) {
            if (x < 0) throw shape_error("shape: negative extent " + std::to_string(x));
            dims[static_cast<std::size_t>(rank++)] = x;
        }
    }
    HOPRAG_INLINE std::int64_t operator[](int i) const { return dims[static_cast<std::size_t>(i)]; }
    HOPRAG_INLINE std::int64_t numel() const {
        std::int64_t n = 1;
        for (int i = 0; i < rank; ++i) n *= dims[static_cast<std::size_t>(i)];
        return n;
    }
    friend bool operator==(const shape& a, const shape& b) {
        if (a.rank != b.rank) return false;
        for (int i = 0; i < a.rank; ++i)
            if (a[i] != b[i]) return false;
        return true;
    }
    /// "[2, 3, 4]"
    std::string str() const {
        std::string s = "[";
        for (int i = 0; i < rank; ++i) s += (i ? ", " : "") + std::to_string(dims[static_cast<std::size_t>(i)]);
        return s + "]";
    }
};

/// Contiguous row-major strides (in elements) of `s`.
inline std::array<std::int64_t, max_rank> contiguous_strides(const shape& s) {
    std::array<std::int64_t, max_rank> st{};
    std::int64_t acc = 1;
    for (int i = s.rank - 1; i >= 0; --i) {
        st[static_cast<std::size_t>(i)] = acc;
        acc *= s[i];
    }
    return st;
}

/// Non-owning strided view of T elements. Strides are in elements and may be any non-negative
/// values (broadcast = stride 0). `contiguous()` tells whether it is dense row-major.
template <class T>
struct view {
    T* data = nullptr;                              // first element
    shape dims;                                     // extents
    std::array<std::int64_t, max_rank> strides{};   // [rank] element strides

    view() = default;
    view(T* d, shape s) : data(d), dims(s), strides(contiguous_strides(s)) {}
    view(T* d, shape s, std::array<std::int64_t, max_rank> st) : data(d), dims(s), strides(st) {}

    std::int64_t numel() const { return dims.numel(); }
    int rank() const { return dims.rank; }
    std::int64_t size(int i) const { return dims[i]; }
    bool contiguous() const { return strides == contiguous_strides(dims); }

    /// Element at a full index (one coordinate per dimension).
    template <class... I>
    T& operator()(I... idx) const {
        static_assert(sizeof...(I) <= max_rank, "too many indices");
        const std::int64_t c[] = {static_cast<std::int64_t>(idx)...};
        std::int64_t off = 0;
        for (std::size_t i = 0; i < sizeof...(I); ++i) off += c[i] * strides[i];
        return data[off];
    }

    /// Sub-view of dimension `dim` restricted to [begin, begin + count).
    view slice(int dim, std::int64_t begin, std::int64_t count) const {
        if (dim < 0 || dim >= rank()) throw shape_error("view::slice: dimension " + std::to_string(dim) + " out of rank " + std::to_string(rank()));
        if (begin < 0 || count < 0 || begin + count > dims[dim])
            throw shape_error("view::slice: range [" + std::to_string(begin) + ", " + std::to_string(begin + count) +
                              ") outside extent " + std::to_string(dims[dim]) + " of dimension " + std::to_string(dim));
        view r = *this;
        r.data = data + begin * strides[static_cast<std::size_t>(dim)];
        r.dims.dims[static_cast<std::size_t>(dim)] = count;
        return r;
    }

    /// View with dimensions `a` and `b` swapped (no data movement).
    view transposed(int a, int b) const {
        view r = *this;
        std::swap(r.dims.dims[static_cast<std::size_t>(a)], r.dims.dims[static_cast<std::size_t>(b)]);
        std::swap(r.strides[static_cast<std::size_t>(a)], r.strides[static_cast<std::size_t>(b)]);
        return r;
    }

    /// Same data with a new contiguous shape; requires a contiguous view and equal numel.
    view reshaped(shape s) const {
        if (!contiguous()) throw shape_error("view::reshaped: view is not contiguous");
        if (s.numel() != numel()) throw shape_error("view::reshaped: numel " + std::to_string(s.numel()) + " != " + std::to_string(numel()) + " of " + dims.str());
        return view(data, s);
    }
};

}  // namespace hoprag
