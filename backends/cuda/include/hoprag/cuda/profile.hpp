// Run-time profile detection through the CUDA backend (CUDA-free header): the profile of device
// `device` when a CUDA device is present, else the cpu profile.
#pragma once

#include <optional>

#include "hoprag/backend/profile.hpp"
#include "hoprag/cuda/context.hpp"

namespace hoprag::cuda {

/// The hardware profile for this machine: t4 / a100 / h100 by the GPU's SM version and memory,
/// or cpu when no CUDA device (or driver) is present.
inline profile_info detect_profile(int device = 0) {
    if (device_count() <= device) return select_profile(std::nullopt);
    const device_properties p = properties(device);
    return select_profile(gpu_summary{10 * p.sm_major + p.sm_minor, p.total_memory});
}

}  // namespace hoprag::cuda
