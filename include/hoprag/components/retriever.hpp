// Retriever<Encoder, Index>: the first stage of the pipeline. It encodes a passage corpus into a
// dense index (in chunks, reporting passages/s to the context's log sink) and returns the top-k
// passages (default 200) of each question, queries encoded and searched in batches. Both slots are
// policy types checked by concepts (DESIGN rule 5): the encoder (models/bert/encoder.hpp) and the
// index (components/flat_index.hpp). `header_for` gives the index header an encoder and corpus
// imply, which flat_index::load checks, so a stale index is refused instead of returning nonsense.
#pragma once

#include <chrono>
#include <concepts>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hoprag/components/flat_index.hpp"
#include "hoprag/core/clock.hpp"
#include "hoprag/components/index_header.hpp"
#include "hoprag/core/context.hpp"
#include "hoprag/data/passage.hpp"

namespace hoprag::components {

/// A text encoder for retrieval: passage and query embeddings [n, dimension()] in input order,
/// and the facts recorded in an index header.
template <class E>
concept retrieval_encoder = requires(E& e, const E& ce, std::span<const std::string> texts) {
    { e.encode_passages(texts) } -> std::same_as<std::vector<float>>;
    { e.encode_queries(texts) } -> std::same_as<std::vector<float>>;
    { ce.dimension() } -> std::convertible_to<std::int64_t>;
    { ce.model_id() } -> std::convertible_to<std::string>;
    { E::pooling_name() } -> std::convertible_to<std::string_view>;
    { ce.normalized() } -> std::convertible_to<bool>;
};

/// A dense index: add vectors, search top-k, report its size and header.
template <class I>
concept dense_index = requires(I& i, const I& ci, std::span<const float> v, std::int64_t k) {
    i.add(v);
    { i.search(v, k) } -> std::same_as<search_result>;
    { ci.size() } -> std::convertible_to<std::int64_t>;
    { ci.header() } -> std::convertible_to<const index_header&>;
};

/// One retrieved passage: its index in the corpus and its score.
struct hit {
    std::int32_t passage = 0;
    float score = 0;
};

/// The passages of `corpus` that `hits` name, best first, each with its hit's score.
[[nodiscard]] inline std::vector<data::passage> hit_passages(std::span<const hit> hits, std::span<const data::passage> corpus) {
    std::vector<data::passage> out;
    out.reserve(hits.size());
    for (const auto& h : hits) {
        out.push_back(corpus[static_cast<std::size_t>(h.passage)]);
        out.back().score = h.score;
    }
    return out;
}

template <class Encoder, class Index>
class retriever {
    static_assert(retrieval_encoder<Encoder>,
                  "Retriever<Encoder, Index>: Encoder must provide encode_passages(texts) and encode_queries(texts) "
                  "returning std::vector<float>, and dimension(), model_id(), pooling_name(), normalized()");
    static_assert(dense_index<Index>,
                  "Retriever<Encoder, Index>: Index must provide add(span<const float>), search(queries, k) "
                  "returning search_result, size() and header()");

public:
    /// `log` receives progress lines (its sink may be empty).
    retriever(Encoder& encoder, Index& index, const hoprag::context& log) : enc_(&encoder), idx_(&index), log_(&log) {}

    /// The header of an index built by `encoder` over `passages` (in this order).
    static index_header header_for(const Encoder& encoder, std::span<const data::passage> passages) {
        corpus_hasher h;
        for (const auto& p : passages) {
            h.add(p.title);
            h.add(p.text);
        }
        return {encoder.model_id(), encoder.dimension(), std::string(Encoder::pooling_name()), encoder.normalized(),
                h.hex()};
    }

    /// Encodes `passages` (appending to the index), `chunk` at a time; returns passages per second.
    double add_passages(std::span<const data::passage> passages, std::size_t chunk = 2048) {
        const auto t0 = std::chrono::steady_clock::now();
        std::vector<std::string> texts;
        for (std::size_t s = 0; s < passages.size(); s += chunk) {
            const std::size_t e = std::min(passages.size(), s + chunk);
            texts.clear();
            for (std::size_t i = s; i < e; ++i) texts.push_back(data::passage_text(passages[i]));
            idx_->add(enc_->encode_passages(texts));
            const double secs = seconds_since(t0);
            char line[160];
            std::snprintf(line, sizeof line, "encoded %zu/%zu passages, %.1f passages/s", e, passages.size(),
                          secs > 0 ? double(e) / secs : 0.0);
            log_->log(log_level::info, line);
        }
        const double secs = seconds_since(t0);
        return secs > 0 ? double(passages.size()) / secs : 0.0;
    }

    /// The top-k passages of each question (best first), questions encoded `batch` at a time; fewer
    /// than k when an approximate index could not fill every slot.
    std::vector<std::vector<hit>> retrieve(std::span<const std::string> questions, std::int64_t k = 200,
                                           std::size_t batch = 256) {
        std::vector<std::vector<hit>> out;
        out.reserve(questions.size());
        for (std::size_t s = 0; s < questions.size(); s += batch) {
            const auto part = questions.subspan(s, std::min(batch, questions.size() - s));
            const auto q = enc_->encode_queries(part);
            const auto r = idx_->search(q, k);
            for (std::int64_t i = 0; i < r.queries; ++i) {
                auto& hits = out.emplace_back();
                for (std::int64_t j = 0; j < r.k; ++j)  // id -1: a slot an approximate index left empty
                    if (const auto id = r.ids[static_cast<std::size_t>(i * r.k + j)]; id >= 0)
                        hits.push_back({id, r.scores[static_cast<std::size_t>(i * r.k + j)]});
            }
            char line[96];
            std::snprintf(line, sizeof line, "retrieved %zu/%zu questions", s + part.size(), questions.size());
            log_->log(log_level::info, line);
        }
        return out;
    }

private:
    Encoder* enc_;
    Index* idx_;
    const hoprag::context* log_;
};

}  // namespace hoprag::components
