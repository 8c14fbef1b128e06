// The program edge of `--device cpu|cuda|auto` (DESIGN: resolved once, into a backend type).
// `run_on_device(name, flag, f)` calls `f.template operator()<cpu::backend>()` and returns its
// status. No program has a CUDA path yet (the GPU issue adds them, as a cuda::backend branch here):
// `--device cuda` is refused in one line, exit 2 (usage_error), and `auto` says on stderr that it
// runs on the CPU when a GPU is present.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

#include "hoprag/backend/device.hpp"
#include "hoprag/cpu/backend.hpp"
#include "program_main.hpp"

namespace program {

template <class F>
int run_on_device(std::string_view name, std::string_view flag, F&& f) {
    hoprag::device_choice d;
    try {
        d = hoprag::parse_device(flag);
    } catch (const hoprag::config_error& e) {
        throw usage_error(e.what());
    }
    const bool gpu = hoprag::gpu_present();
    if (d == hoprag::device_choice::cuda)
        throw usage_error(std::string("--device cuda: ") +
                          (gpu ? std::string(name) + " has no CUDA path yet; use --device cpu"
                               : "no CUDA device on this machine (no NVIDIA driver or GPU found); use --device cpu"));
    if (d == hoprag::device_choice::auto_ && gpu)
        std::fprintf(stderr, "%.*s: --device auto: a GPU is present but this program has no CUDA path yet; running on the CPU\n",
                     static_cast<int>(name.size()), name.data());
    return f.template operator()<hoprag::cpu::backend>();
}

}  // namespace program
