// Which backend a program runs on: the `--device cpu|cuda|auto` choice, parsed and resolved once at
// the program's edge into a backend policy type (cpu::backend, cuda::backend); nothing below that
// edge switches on strings. `gpu_present()` looks for an NVIDIA GPU through the driver's /proc and
// /dev entries, so it works in builds without the CUDA backend (never throws).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

#include "hoprag/core/error.hpp"

namespace hoprag {

enum class device_choice { cpu, cuda, auto_ };

/// "cpu", "cuda" or "auto"; anything else throws config_error naming the value.
inline device_choice parse_device(std::string_view s) {
    if (s == "cpu") return device_choice::cpu;
    if (s == "cuda") return device_choice::cuda;
    if (s == "auto") return device_choice::auto_;
    throw config_error("--device must be cpu, cuda or auto, got '" + std::string(s) + "'");
}

/// True when the NVIDIA driver reports at least one GPU (/proc/driver/nvidia/gpus/* or /dev/nvidia0).
inline bool gpu_present() noexcept {
    std::error_code ec;
    const std::filesystem::path gpus = "/proc/driver/nvidia/gpus";
    if (std::filesystem::is_directory(gpus, ec) && std::filesystem::directory_iterator(gpus, ec) != std::filesystem::directory_iterator())
        return true;
    return std::filesystem::exists("/dev/nvidia0", ec);
}

}  // namespace hoprag
