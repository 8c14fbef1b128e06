// CPU backend context and memory. Host memory is 64-byte aligned (AVX-512 lines); upload and
// download are plain copies so code written against the backend interface runs unchanged on CPU.
#pragma once

#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "hoprag/core/arena.hpp"
#include "hoprag/core/context.hpp"

namespace hoprag::cpu {

/// Threads: the CPU backend parallelises rows with OpenMP over the process's threads.
class context : public hoprag::context {
public:
    using hoprag::context::context;
};

/// `bytes` of host memory aligned to arena_alignment; throws std::bad_alloc on failure.
inline void* allocate(context&, std::size_t bytes) {
    void* p = std::aligned_alloc(arena_alignment, align_up(bytes == 0 ? 1 : bytes, arena_alignment));
    if (!p) throw std::bad_alloc();
    return p;
}
inline void deallocate(context&, void* p) noexcept { std::free(p); }
inline void upload(context&, void* dst, const void* src, std::size_t bytes) { std::memcpy(dst, src, bytes); }
inline void download(context&, void* dst, const void* src, std::size_t bytes) { std::memcpy(dst, src, bytes); }
inline void synchronize(context&) {}

}  // namespace hoprag::cpu
