// The order in which a trainer visits its examples: a Fisher-Yates shuffle per epoch, driven by
// Philox stream (seed, stream_base + epoch), so a resumed run visits the same examples in the same
// order from its saved (epoch, data position) alone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "hoprag/core/rng.hpp"

namespace hoprag::train {

/// A permutation of 0..n-1 for epoch `epoch` (the same for the same arguments on every machine).
inline std::vector<std::size_t> epoch_order(std::uint64_t seed, std::uint64_t stream_base, std::int64_t epoch, std::size_t n) {
    std::vector<std::size_t> o(n);
    for (std::size_t i = 0; i < n; ++i) o[i] = i;
    const philox_stream r{seed, stream_base + static_cast<std::uint64_t>(epoch)};
    for (std::size_t i = n; i > 1; --i) std::swap(o[i - 1], o[r.bits(i) % i]);
    return o;
}

/// epoch_order of one stream base, kept until the epoch (or the example count) changes, so a
/// trainer that asks every step shuffles once per epoch.
class epoch_order_cache {
public:
    explicit epoch_order_cache(std::uint64_t stream_base) : base_(stream_base) {}
    const std::vector<std::size_t>& at(std::uint64_t seed, std::int64_t epoch, std::size_t n) {
        if (!valid_ || epoch != epoch_ || seed != seed_ || n != order_.size()) {
            order_ = epoch_order(seed, base_, epoch, n);
            seed_ = seed, epoch_ = epoch, valid_ = true;
        }
        return order_;
    }

private:
    std::uint64_t base_, seed_ = 0;
    std::int64_t epoch_ = 0;
    bool valid_ = false;
    std::vector<std::size_t> order_;
};

}  // namespace hoprag::train
