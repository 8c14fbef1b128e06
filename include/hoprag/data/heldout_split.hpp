// The held-out evaluation split of HotpotQA questions, fixed by "_id": a question is held out when
// fnv1a64 (core/hash.hpp) of its "_id" bytes (FNV-1a 64 loop, h = (h ^ byte) * 1099511628211, with the
// project's offset basis 1469598103934665603 -- not the standard 14695981039346656037) is 0 modulo
// `modulus` (default 8, about 1 in 8). On the shared 940-question dev sample this holds out 105.
// It is the one rule of the library: every trainer evaluates on the held-out questions and trains
// on the rest, and every program's --split selects by it. It depends only on the id, not on file
// order. (Before this rule was shared, the reranker held out fnv1a64 % 4 == 0, 248 dev questions, a
// superset of these 105: rerankers trained then never saw today's held-out questions.)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hoprag/core/error.hpp"
#include "hoprag/core/hash.hpp"
#include "hoprag/data/hotpotqa_record.hpp"

namespace hoprag::data {

/// Default modulus of the held-out rule.
inline constexpr std::uint64_t heldout_modulus = 8;

/// Whether the question with "_id" `id` is held out (fnv1a64(id) % modulus == 0).
[[nodiscard]] inline bool is_heldout(std::string_view id, std::uint64_t modulus = heldout_modulus) {
    if (modulus == 0) throw config_error("is_heldout: modulus must be at least 1");
    return fnv1a64(id) % modulus == 0;
}

/// Which part of a question set to keep.
enum class split_part { all, heldout, training };

/// The part named `name`: "all", "heldout" (or "held-out"), "training" (or "train"); config_error
/// names the choices otherwise.
[[nodiscard]] inline split_part parse_split_part(std::string_view name) {
    if (name == "all") return split_part::all;
    if (name == "heldout" || name == "held-out") return split_part::heldout;
    if (name == "training" || name == "train") return split_part::training;
    throw config_error("the split must be all, heldout (held-out) or training (train), got \"" + std::string(name) + "\"");
}

/// Whether question `id` belongs to part `part`.
[[nodiscard]] inline bool in_split(std::string_view id, split_part part, std::uint64_t modulus = heldout_modulus) {
    return part == split_part::all || is_heldout(id, modulus) == (part == split_part::heldout);
}

/// The records of `records` in part `part` (file order kept).
[[nodiscard]] inline std::vector<hotpot_record> select_split(std::vector<hotpot_record> records, split_part part,
                                                            std::uint64_t modulus = heldout_modulus) {
    if (part == split_part::all) return records;
    std::vector<hotpot_record> out;
    for (auto& r : records)
        if (in_split(r.id, part, modulus)) out.push_back(std::move(r));
    return out;
}

}  // namespace hoprag::data
