// The peak memory of a run, for training results and benchmarks: the process's peak resident set
// size, and on a backend whose context reports its allocator (cuda::memory, found by
// argument-dependent lookup) the device high-water mark. The CPU backend has no separate device
// memory: its tensors are part of the RSS.
#pragma once

#include <nlohmann/json.hpp>

#include "hoprag/core/host_memory.hpp"

namespace hoprag::train {

/// {"host_peak_rss_mib"[, "device_peak_mib"]} for backend context `ctx`.
template <class Context>
[[nodiscard]] nlohmann::ordered_json peak_memory_json(Context& ctx) {
    nlohmann::ordered_json j{{"host_peak_rss_mib", host_peak_rss_mib()}};
    if constexpr (requires { memory(ctx).peak; }) j["device_peak_mib"] = static_cast<double>(memory(ctx).peak) / 1048576.0;
    return j;
}

}  // namespace hoprag::train
