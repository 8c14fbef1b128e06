// The program edge of `--device cpu|cuda|auto` (DESIGN: resolved once, into a backend type).
// `run_on_device<CudaPath>(name, flag, f)` calls `f.template operator()<Backend>()` with
// cpu::backend or, for programs whose code path compiles for the GPU (CudaPath = true) in a build
// with the CUDA backend (HOPRAG_WITH_CUDA, set by CMake when nvcc is present), cuda::backend; and
// returns its status. `--device cuda` without such a path, without the backend in the build, or
// without a GPU is refused in one line, exit 2 (usage_error); `auto` takes the GPU when it can
// and otherwise says on stderr why it runs on the CPU when a GPU is present. `device_profile`
// resolves `--profile` (mixed precision, memory budget) for the backend chosen.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

#include "hoprag/backend/device.hpp"
#include "hoprag/backend/profile.hpp"
#include "hoprag/cpu/backend.hpp"
#include "program_main.hpp"
#ifndef HOPRAG_WITH_CUDA
#define HOPRAG_WITH_CUDA 0
#endif
#if HOPRAG_WITH_CUDA
#include "hoprag/cuda/backend.hpp"
#endif

namespace program {

/// Whether this build holds the CUDA backend.
inline constexpr bool cuda_built = HOPRAG_WITH_CUDA != 0;

template <bool CudaPath = false, class F>
int run_on_device(std::string_view name, std::string_view flag, F&& f) {
    hoprag::device_choice d;
    try {
        d = hoprag::parse_device(flag);
    } catch (const hoprag::config_error& e) {
        throw usage_error(e.what());
    }
    const bool gpu = hoprag::gpu_present();
    const std::string why = !CudaPath ? std::string(name) + " has no CUDA path yet"
                            : !cuda_built ? "this build has no CUDA backend (configured without nvcc)"
                                          : "no CUDA device on this machine (no NVIDIA driver or GPU found)";
#if HOPRAG_WITH_CUDA
    if constexpr (CudaPath)
        if (d != hoprag::device_choice::cpu && gpu && hoprag::cuda::device_count() > 0)
            return f.template operator()<hoprag::cuda::backend>();
#endif
    if (d == hoprag::device_choice::cuda) throw usage_error("--device cuda: " + why + "; use --device cpu");
    if (d == hoprag::device_choice::auto_ && gpu)
        std::fprintf(stderr, "%.*s: --device auto: a GPU is present but %s; running on the CPU\n", static_cast<int>(name.size()), name.data(),
                     why.c_str());
    return f.template operator()<hoprag::cpu::backend>();
}

/// The hardware profile of `--profile P` for a run on Backend: auto = the backend's own
/// (Backend::detect_profile: the GPU present, or cpu), else the profile named P (usage_error if none).
template <class Backend>
hoprag::profile_info device_profile(std::string_view flag) {
    if (flag == "auto") return Backend::detect_profile();
    try {
        return hoprag::profile_named(flag);
    } catch (const hoprag::config_error& e) {
        throw usage_error("--profile must be auto or a profile: " + std::string(e.what()));
    }
}

/// One line on a trainer's precision, e.g. "profile t4 on cuda: GEMMs in f16, loss scaling from 65536".
inline std::string precision_note(const hoprag::profile_info& p, std::string_view backend, const std::string& compute, double loss_scale) {
    char scale[32];
    std::snprintf(scale, sizeof scale, "%g", loss_scale);
    return "profile " + std::string(p.name) + " on " + std::string(backend) + ": GEMMs in " + compute + ", loss scaling " +
           (loss_scale > 0 ? "from " + std::string(scale) : std::string("off"));
}

}  // namespace program
