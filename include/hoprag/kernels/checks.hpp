// Host-side argument checks shared by the CPU and CUDA op entry points (host code only; never
// called from a kernel). Each check throws hoprag::shape_error or config_error with a message that
// names the op, the argument and the expected versus found value (DESIGN rule 7).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>

#include "hoprag/core/error.hpp"

namespace hoprag::kernels {

/// Throws shape_error unless `value >= 0`.
inline void require_nonnegative(const char* op, const char* what, std::int64_t value) {
    if (value < 0) throw shape_error(std::string(op) + ": " + what + " must be >= 0, got " + std::to_string(value));
}

/// Throws shape_error unless `value >= 1`.
inline void require_positive(const char* op, const char* what, std::int64_t value) {
    if (value < 1) throw shape_error(std::string(op) + ": " + what + " must be >= 1, got " + std::to_string(value));
}

/// Throws shape_error when `p` is null although `count` elements are to be read or written.
inline void require_pointer(const char* op, const char* what, const void* p, std::int64_t count) {
    if (count > 0 && p == nullptr)
        throw shape_error(std::string(op) + ": " + what + " is null but " + std::to_string(count) +
                          " elements are needed");
}

/// A pointer argument and its name, for require_pointers.
struct named_pointer {
    const char* name;
    const void* pointer;
};

/// Throws shape_error naming the first null pointer when `count` > 0 elements are to be touched.
inline void require_pointers(const char* op, std::int64_t count, std::initializer_list<named_pointer> pointers) {
    for (const auto& p : pointers) require_pointer(op, p.name, p.pointer, count);
}

}  // namespace hoprag::kernels
