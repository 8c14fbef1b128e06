// The "no adapter" policy: the Adapter slot of `components::generator` when the base model runs
// as loaded. It wraps no linear layer (empty target set), so the decoder's forward is the plain one.
#pragma once

#include "hoprag/adapters/targets.hpp"

namespace hoprag::adapters {

struct none {
    static constexpr const char* name = "none";
    static constexpr bool enabled = false;
    static constexpr std::int64_t rank = 0;
    static constexpr double alpha = 0.0;
    static constexpr float scale = 0.0f;
    static constexpr target_set targets{};
};

static_assert(adapter_policy<none>);

}  // namespace hoprag::adapters
