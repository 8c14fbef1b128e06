// The project's string hash: FNV-1a 64 over the bytes (h = (h ^ byte) * 1099511628211). Its offset
// basis is 1469598103934665603, one digit short of the standard 14695981039346656037; every
// held-out split and per-example random stream is keyed by it, so it stays as it is.
#pragma once

#include <cstdint>
#include <string_view>

namespace hoprag {

/// FNV-1a 64 of `s` with the project's offset basis (see above).
[[nodiscard]] inline std::uint64_t fnv1a64(std::string_view s) {
    std::uint64_t h = 1469598103934665603ull;
    for (const unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    return h;
}

}  // namespace hoprag
