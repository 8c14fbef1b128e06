// The run-time context base (DESIGN rule 6): no globals. A context carries the log sink and the
// seed from which every random stream is derived; each backend derives its own context from it and
// adds what it owns (threads on the CPU; stream, cuBLASLt handle and workspace on CUDA). The library
// prints nothing unless a sink is installed.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <utility>

#include "hoprag/core/rng.hpp"

namespace hoprag {

enum class log_level { debug, info, warn, error };

/// Receives every message the library wants to say; empty = silent.
using log_sink = std::function<void(log_level, std::string_view)>;

class context {
public:
    explicit context(std::uint64_t seed = 0, log_sink sink = {}) : seed_(seed), sink_(std::move(sink)) {}

    /// Send a message to the sink, if any.
    void log(log_level level, std::string_view msg) const {
        if (sink_) sink_(level, msg);
    }
    void set_sink(log_sink sink) { sink_ = std::move(sink); }

    std::uint64_t seed() const { return seed_; }
    /// The random stream `id` under this context's seed: same numbers on every backend.
    philox_stream rng(std::uint64_t id) const { return philox_stream{seed_, id}; }

private:
    std::uint64_t seed_;
    log_sink sink_;
};

}  // namespace hoprag
