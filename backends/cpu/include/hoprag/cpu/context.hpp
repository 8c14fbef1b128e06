// CPU backend context and memory. Host memory is 64-byte aligned (AVX-512 lines); upload and
// download are plain copies so code written against the backend interface runs unchanged on CPU.
#pragma once

#include <array>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>

#include "hoprag/core/arena.hpp"
#include "hoprag/core/context.hpp"

namespace hoprag::cpu {

/// Threads: the CPU backend parallelises rows with OpenMP over the process's threads.
/// Ops that keep state between calls (the GEMM's oneDNN engine and primitive cache) store it in a
/// slot of the context, created on first use; a context is therefore not thread-safe.
class context : public hoprag::context {
public:
    using hoprag::context::context;

    /// Which op owns a state slot.
    enum class state_slot : std::size_t { gemm, count };
    /// The type-erased state of op `s` (empty until the op first runs).
    std::shared_ptr<void>& op_state(state_slot s) { return op_state_[static_cast<std::size_t>(s)]; }

private:
    std::array<std::shared_ptr<void>, static_cast<std::size_t>(state_slot::count)> op_state_;
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
