// A bump arena sized up front (DESIGN rule 4). Usage is two passes over the same code: first a
// `arena_plan` records every request (size, alignment, name) and reports the total; then an arena of
// exactly that size hands out the same offsets. The arena does not own memory: the backend
// allocates `plan.bytes()` once (host or device) and passes the base pointer in. Running out is a
// config_error naming the request, never a silent overflow.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "hoprag/core/error.hpp"

namespace hoprag {

inline constexpr std::size_t arena_alignment = 256;  // satisfies AVX-512 and CUDA coalescing

inline constexpr std::size_t align_up(std::size_t n, std::size_t a) { return (n + a - 1) / a * a; }

/// Records allocation requests to compute an arena size before any memory exists.
class arena_plan {
public:
    struct entry {
        std::string name;
        std::size_t offset;
        std::size_t bytes;
    };

    /// Reserve `count` elements of T under `name`; returns the byte offset.
    template <class T>
    std::size_t reserve(const std::string& name, std::size_t count) {
        return reserve_bytes(name, count * sizeof(T));
    }
    std::size_t reserve_bytes(const std::string& name, std::size_t bytes) {
        const std::size_t off = align_up(total_, arena_alignment);
        entries_.push_back({name, off, bytes});
        total_ = off + bytes;
        return off;
    }
    /// Total bytes needed, rounded up to the alignment.
    std::size_t bytes() const { return align_up(total_, arena_alignment); }
    const std::vector<entry>& entries() const { return entries_; }

private:
    std::vector<entry> entries_;
    std::size_t total_ = 0;
};

/// Hands out aligned slices of a caller-owned buffer of fixed capacity.
class arena {
public:
    arena(void* base, std::size_t capacity) : base_(static_cast<std::byte*>(base)), capacity_(capacity) {}

    /// `count` elements of T, aligned to arena_alignment. Throws config_error when out of space.
    template <class T>
    T* take(const std::string& name, std::size_t count) {
        return static_cast<T*>(take_bytes(name, count * sizeof(T)));
    }
    void* take_bytes(const std::string& name, std::size_t bytes) {
        const std::size_t off = align_up(used_, arena_alignment);
        if (off + bytes > capacity_)
            throw config_error("arena: request '" + name + "' of " + std::to_string(bytes) + " bytes exceeds capacity " +
                               std::to_string(capacity_) + " (" + std::to_string(off) + " already used); plan the arena with arena_plan first");
        used_ = off + bytes;
        return base_ + off;
    }
    std::size_t used() const { return used_; }
    std::size_t capacity() const { return capacity_; }
    /// Forget every slice (memory is reused from the start).
    void reset() { used_ = 0; }

private:
    std::byte* base_;
    std::size_t capacity_;
    std::size_t used_ = 0;
};

}  // namespace hoprag
