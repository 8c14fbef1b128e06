// Wall-clock seconds for progress lines and per-stage latencies (steady clock, never goes back).
#pragma once

#include <chrono>

namespace hoprag {

/// Seconds elapsed since `t0`.
[[nodiscard]] inline double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace hoprag
