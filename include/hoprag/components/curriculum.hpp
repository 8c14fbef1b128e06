// curriculum<Schedule> (the design's Curriculum<Schedule>): mixes the generator's training bundles. Input: questions,
// the pooled corpus, and per question its retrieval candidates (ranked passage indices with scores: from ranked-passage
// lists -- the dense retriever's or the reranker's output, `from_rankings` -- or from a pluggable passage_scorer over the
// question's own context paragraphs, `from_scorer`).
// Output per (epoch, example): a training_bundle with at most k passages, each scored by its
// selection priority (k for the first chosen, down to 1), so a prompt that cannot show them all
// drops the least wanted first (forced gold last).
//  * gold forced (the schedule says so): the question's gold passages (those holding a supporting
//    fact; at most k, best-ranked first), then its hard negatives (at most
//    `curriculum_options::hard_negatives`, best first), then the remaining candidates by rank, up to k;
//  * not forced: the top k candidates; gold passages are there only if retrieval found them.
// Order of the shown passages: `passage_order::shuffled` (default; a Fisher-Yates shuffle, so the
// position of the gold passages says nothing) or `passage_order::ranked` (by retrieval rank, forced
// passages the retrieval missed first, in selection order).
// Determinism: every random draw (the schedule's u and the shuffle) is element j of the Philox
// stream keyed by (seed, epoch, FNV-1a of the question's "_id"), so a bundle depends only on the
// seed, the epoch and the question -- not on the thread count, the call order or the dataset order.
// Pipelines are range-v3 views (host-only code; nvcc cannot compile range-v3, DESIGN rule 1).
#pragma once

#include <range/v3/view/concat.hpp>
#include <range/v3/view/iota.hpp>
#include <range/v3/view/transform.hpp>

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "hoprag/components/curriculum_schedules.hpp"
#include "hoprag/core/error.hpp"
#include "hoprag/core/hash.hpp"
#include "hoprag/core/rng.hpp"
#include "hoprag/data/bundle.hpp"
#include "hoprag/data/corpus.hpp"
#include "hoprag/data/passage_scorer.hpp"

namespace hoprag::components {

/// How the shown passages are ordered.
enum class passage_order { shuffled, ranked };

/// Curriculum settings.
struct curriculum_options {
    std::size_t k = 10;              ///< passages per bundle (fewer only when too few candidates)
    std::size_t hard_negatives = 4;  ///< hard negatives placed right after forced gold
    std::uint64_t seed = 0;          ///< Philox key
    passage_order order = passage_order::shuffled;
};

/// One question's retrieval results and hard negatives (corpus passage indices, best first).
struct curriculum_input {
    data::passage_ranking candidates;
    std::vector<std::uint32_t> hard_negatives;
};

template <class Schedule>
class curriculum {
    static_assert(has_force_gold<Schedule>,
                  "curriculum<Schedule>: Schedule lacks `bool force_gold(schedule_point p, float u) const` "
                  "(decides whether gold is forced at p; u is uniform in [0, 1))");
    static_assert(has_schedule_name<Schedule>,
                  "curriculum<Schedule>: Schedule lacks `static constexpr std::string_view name`");

public:
    /// `inputs[i]` belongs to `records[i]`; corpus and records must outlive the curriculum.
    /// Throws shape_error when the sizes differ or k is 0, format_error for a supporting fact
    /// without a passage (data::supporting_passages).
    curriculum(const data::corpus& c, std::span<const data::hotpot_record> records,
               std::vector<curriculum_input> inputs, curriculum_options options = {}, Schedule schedule = {})
        : corpus_(&c), records_(records), inputs_(std::move(inputs)), options_(options), schedule_(schedule) {
        if (inputs_.size() != records_.size())
            throw shape_error("curriculum: " + std::to_string(inputs_.size()) + " retrieval inputs for " +
                              std::to_string(records_.size()) + " questions");
        if (options_.k == 0) throw shape_error("curriculum: k must be at least 1");
        gold_.reserve(records_.size());
        for (const auto& r : records_) gold_.push_back(data::supporting_passages(c, r));
    }

    /// Candidates and hard negatives from `scorer` over each question's own context passages.
    template <data::passage_scorer Scorer>
    static curriculum from_scorer(const data::corpus& c, std::span<const data::hotpot_record> records,
                                  const Scorer& scorer, curriculum_options options = {}, Schedule schedule = {}) {
        std::vector<curriculum_input> in;
        in.reserve(records.size());
        for (const auto& r : records) {
            curriculum_input x;
            x.candidates = data::rank_passages(scorer, r.question, c, data::context_passages(c, r));
            x.hard_negatives = data::hard_negatives(c, r, x.candidates, options.hard_negatives);
            in.push_back(std::move(x));
        }
        return curriculum(c, records, std::move(in), options, schedule);
    }

    /// Candidates and hard negatives from ranked passage lists ("_id" -> passages best first: the
    /// retriever's or reranker's output for these questions, data/ranked_passage_file.hpp). Passages
    /// are matched to the corpus by title and text; those not in it (another corpus or passage unit)
    /// are skipped and counted in `unmatched` when given. Throws format_error naming the first
    /// question that has no list.
    static curriculum from_rankings(const data::corpus& c, std::span<const data::hotpot_record> records,
                                    const std::unordered_map<std::string, std::vector<data::passage>>& lists,
                                    curriculum_options options = {}, Schedule schedule = {}, std::size_t* unmatched = nullptr) {
        std::vector<curriculum_input> in;
        in.reserve(records.size());
        std::size_t missed = 0;
        for (const auto& r : records) {
            const auto it = lists.find(r.id);
            if (it == lists.end())
                throw format_error("curriculum: question \"" + r.id + "\" has no ranked passages (retrieve or rerank every training question)");
            curriculum_input x;
            for (const auto& p : it->second) {
                const auto i = c.find(p.title, p.text);
                if (!i) {
                    ++missed;
                    continue;
                }
                if (std::find(x.candidates.passages.begin(), x.candidates.passages.end(), *i) != x.candidates.passages.end()) continue;
                x.candidates.passages.push_back(*i);
                x.candidates.scores.push_back(p.score);
            }
            x.hard_negatives = data::hard_negatives(c, r, x.candidates, options.hard_negatives);
            in.push_back(std::move(x));
        }
        if (unmatched) *unmatched = missed;
        return curriculum(c, records, std::move(in), options, schedule);
    }

    [[nodiscard]] std::size_t size() const { return records_.size(); }
    [[nodiscard]] const curriculum_options& options() const { return options_; }
    [[nodiscard]] const Schedule& schedule() const { return schedule_; }

    /// The random stream of (epoch, example): element 0 is the schedule's u, 1.. the shuffle.
    [[nodiscard]] philox_stream stream(std::size_t epoch, std::size_t example) const {
        return philox_stream{options_.seed,
                             fnv1a64(records_[example].id) ^ (std::uint64_t(epoch) * 0x9E3779B97F4A7C15ull)};
    }

    /// Whether gold is forced for (epoch, example).
    [[nodiscard]] bool gold_forced(std::size_t epoch, std::size_t example) const {
        return schedule_.force_gold(schedule_point{epoch, example, size()}, stream(epoch, example).uniform(0));
    }

    /// The bundle of example `example` (0 <= example < size()) at `epoch`.
    [[nodiscard]] data::training_bundle bundle(std::size_t epoch, std::size_t example) const {
        if (example >= size())
            throw shape_error("curriculum: example " + std::to_string(example) + " of " + std::to_string(size()));
        const auto& in = inputs_[example];
        const auto& ranked = in.candidates.passages;
        const bool forced = gold_forced(epoch, example);
        std::vector<std::uint32_t> gold;  // forced gold, best-ranked first, unranked after
        if (forced) {
            gold = gold_[example];
            std::stable_sort(gold.begin(), gold.end(), [&](std::uint32_t a, std::uint32_t b) {
                return rank_of(ranked, a, true) < rank_of(ranked, b, true);
            });
            if (gold.size() > options_.k) gold.resize(options_.k);
        }
        const std::size_t n_hard = forced ? std::min(options_.hard_negatives, in.hard_negatives.size()) : 0;
        std::vector<std::uint32_t> chosen;
        chosen.reserve(options_.k);
        auto pool =
            ranges::views::concat(gold, std::span<const std::uint32_t>(in.hard_negatives.data(), n_hard), ranked);
        for (const std::uint32_t p : pool) {
            if (chosen.size() == options_.k) break;
            if (std::find(chosen.begin(), chosen.end(), p) == chosen.end()) chosen.push_back(p);
        }
        std::unordered_map<std::uint32_t, float> priority;  // selection order as a score: fitting drops the last chosen first
        for (std::size_t i = 0; i < chosen.size(); ++i) priority[chosen[i]] = float(chosen.size() - i);
        const auto s = stream(epoch, example);
        if (options_.order == passage_order::shuffled) {
            for (std::size_t i = chosen.size(); i > 1; --i)
                std::swap(chosen[i - 1], chosen[std::size_t(s.bits(chosen.size() - i + 1)) % i]);
        } else {
            std::stable_sort(chosen.begin(), chosen.end(), [&](std::uint32_t a, std::uint32_t b) {
                return rank_of(ranked, a, false) < rank_of(ranked, b, false);
            });
        }
        auto b = data::make_bundle(*corpus_, records_[example], chosen);
        for (std::size_t i = 0; i < b.passages.size(); ++i) b.passages[i].score = priority.at(b.shown[i]);
        b.gold_forced = forced;
        b.epoch = epoch;
        return b;
    }

    /// The bundles of one epoch, as a lazy view (example 0, 1, ...).
    [[nodiscard]] auto epoch(std::size_t e) const {
        return ranges::views::iota(std::size_t{0}, size()) |
               ranges::views::transform([this, e](std::size_t i) { return bundle(e, i); });
    }

private:
    // Rank of p in `ranked`; a passage missing from it sorts after (missing_last) or before all.
    static std::ptrdiff_t rank_of(const std::vector<std::uint32_t>& ranked, std::uint32_t p, bool missing_last) {
        const auto it = std::find(ranked.begin(), ranked.end(), p);
        if (it == ranked.end()) return missing_last ? std::ptrdiff_t(ranked.size()) : -1;
        return it - ranked.begin();
    }

    const data::corpus* corpus_;
    std::span<const data::hotpot_record> records_;
    std::vector<curriculum_input> inputs_;
    std::vector<std::vector<std::uint32_t>> gold_;  // [questions] gold passage indices, ascending
    curriculum_options options_;
    Schedule schedule_;
};

}  // namespace hoprag::components
