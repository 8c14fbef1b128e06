// Hardware profiles as constexpr policy types (DESIGN rule 5): what precision to compute in, how
// much memory a plan may use and the longest sequence to train on. `select_profile` picks one at
// run time from the properties of the GPU present (or cpu when there is none); `profile_named`
// from a flag.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "hoprag/core/dtype.hpp"
#include "hoprag/core/error.hpp"

namespace hoprag {

/// What a profile type provides.
template <class P>
concept profile = requires {
    { P::name } -> std::convertible_to<std::string_view>;
    { P::compute_type } -> std::convertible_to<dtype>;      // mixed-precision compute dtype
    { P::memory_bytes } -> std::convertible_to<std::size_t>;  // memory a plan may use
    { P::max_sequence } -> std::convertible_to<std::int64_t>;
    { P::min_sm } -> std::convertible_to<int>;               // lowest SM version (0 = cpu)
    { P::gpu } -> std::convertible_to<bool>;
};

inline constexpr std::size_t gib = std::size_t{1} << 30;

struct cpu_profile {
    static constexpr std::string_view name = "cpu";
    static constexpr dtype compute_type = dtype::f32;
    static constexpr std::size_t memory_bytes = 16 * gib;
    static constexpr std::int64_t max_sequence = 1024;
    static constexpr int min_sm = 0;
    static constexpr bool gpu = false;
};

/// NVIDIA T4: sm_75, no bf16 tensor cores, so fp16 with dynamic loss scaling; 16 GB.
struct t4_profile {
    static constexpr std::string_view name = "t4";
    static constexpr dtype compute_type = dtype::f16;
    static constexpr std::size_t memory_bytes = 15 * gib;  // 16 GB card, ~15 GiB usable
    static constexpr std::int64_t max_sequence = 2048;
    static constexpr int min_sm = 75;
    static constexpr bool gpu = true;
};

/// NVIDIA A100 (40 or 80 GB): sm_80, bf16. The planner uses the smaller card unless told.
struct a100_profile {
    static constexpr std::string_view name = "a100";
    static constexpr dtype compute_type = dtype::bf16;
    static constexpr std::size_t memory_bytes = 39 * gib;
    static constexpr std::int64_t max_sequence = 4096;
    static constexpr int min_sm = 80;
    static constexpr bool gpu = true;
};

/// NVIDIA H100 80 GB: sm_90, bf16.
struct h100_profile {
    static constexpr std::string_view name = "h100";
    static constexpr dtype compute_type = dtype::bf16;
    static constexpr std::size_t memory_bytes = 79 * gib;
    static constexpr std::int64_t max_sequence = 4096;
    static constexpr int min_sm = 90;
    static constexpr bool gpu = true;
};

static_assert(profile<cpu_profile> && profile<t4_profile> && profile<a100_profile> && profile<h100_profile>);

/// A profile's values at run time.
struct profile_info {
    std::string_view name;
    dtype compute_type;
    std::size_t memory_bytes;
    std::int64_t max_sequence;
    int min_sm;
    bool gpu;
};

template <profile P>
constexpr profile_info info_of() {
    return {P::name, P::compute_type, P::memory_bytes, P::max_sequence, P::min_sm, P::gpu};
}

/// What select_profile needs to know about a GPU.
struct gpu_summary {
    int sm = 0;                    // 10 * major + minor
    std::size_t total_memory = 0;  // bytes
};

/// The profile for the device present: cpu without a GPU; h100 for sm >= 90; a100 for sm >= 80
/// (40 or 80 GB); t4 for sm >= 75; older GPUs fall back to cpu. The memory budget is the card's
/// memory less 1 GiB for the CUDA runtime and cuBLASLt workspace.
constexpr profile_info select_profile(std::optional<gpu_summary> gpu) {
    if (!gpu || gpu->sm < 75) return info_of<cpu_profile>();
    profile_info p = gpu->sm >= 90 ? info_of<h100_profile>() : gpu->sm >= 80 ? info_of<a100_profile>() : info_of<t4_profile>();
    const std::size_t usable = gpu->total_memory > gib ? gpu->total_memory - gib : 0;
    p.memory_bytes = usable;
    return p;
}

/// The profile called `name`: cpu, t4, a100 (the 40 GB card), a100-80 (the 80 GB one) or h100;
/// config_error otherwise.
inline profile_info profile_named(std::string_view name) {
    if (name == "cpu") return info_of<cpu_profile>();
    if (name == "t4") return info_of<t4_profile>();
    if (name == "a100") return info_of<a100_profile>();
    if (name == "a100-80") {
        auto p = info_of<a100_profile>();
        p.memory_bytes = 79 * gib;
        return p;
    }
    if (name == "h100") return info_of<h100_profile>();
    throw config_error("profile must be cpu, t4, a100, a100-80 or h100, found \"" + std::string(name) + "\"");
}

}  // namespace hoprag
