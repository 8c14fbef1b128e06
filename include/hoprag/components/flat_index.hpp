// Exact inner-product index: every passage vector is kept (f32 or bf16, a storage policy type) and a
// query batch is scored against all of them with one GEMM per query block, followed by the
// backend's top-k. Works on any backend context (the vectors live in its memory). Saved as a
// safetensors file (tensor "vectors" [count, dimension], F32 or BF16) whose metadata carries the
// index_header plus "format" = "hoprag-flat-index"; written durably (temp file, fsync, rename).
// load() refuses a file whose header differs from the expected one. Exact search costs
// O(queries x count x dimension): fine to ~10^6 passages on a GPU, slower on CPU.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hoprag/backend/buffer.hpp"
#include "hoprag/backend/ops.hpp"
#include "hoprag/components/index_header.hpp"
#include "hoprag/core/dtype.hpp"
#include "hoprag/core/error.hpp"
#include "hoprag/io/safetensors.hpp"

namespace hoprag::components {

/// Vectors stored as f32 (exact scores).
struct f32_storage {
    using element = float;
    static constexpr dtype type = dtype::f32;
    static constexpr io::st_dtype file_type = io::st_dtype::f32;
    static constexpr std::string_view name = "f32";
};
/// Vectors stored as bf16 (half the memory; scores within ~1e-2 relative, f32 accumulation).
struct bf16_storage {
    using element = bf16;
    static constexpr dtype type = dtype::bf16;
    static constexpr io::st_dtype file_type = io::st_dtype::bf16;
    static constexpr std::string_view name = "bf16";
};

template <class S>
concept index_storage = requires {
    typename S::element;
    { S::type } -> std::convertible_to<dtype>;
    { S::file_type } -> std::convertible_to<io::st_dtype>;
    { S::name } -> std::convertible_to<std::string_view>;
};

/// Top-k of a query batch: scores and passage ids [queries, k], best first.
struct search_result {
    std::int64_t queries = 0, k = 0;
    std::vector<float> scores;
    std::vector<std::int32_t> ids;
};

inline constexpr std::string_view flat_index_format = "hoprag-flat-index";

template <class Context, index_storage Storage = f32_storage>
class flat_index {
public:
    using element = typename Storage::element;

    flat_index(Context& ctx, index_header header) : ctx_(&ctx), header_(std::move(header)) {
        if (header_.dimension <= 0)
            throw config_error("flat_index: dimension must be > 0, found " + std::to_string(header_.dimension));
    }

    const index_header& header() const { return header_; }
    std::int64_t dimension() const { return header_.dimension; }
    std::int64_t size() const { return static_cast<std::int64_t>(host_.size()) / header_.dimension; }

    /// Appends n vectors [n, dimension] (host f32), converted to the storage type.
    void add(std::span<const float> vectors) {
        if (vectors.size() % static_cast<std::size_t>(header_.dimension) != 0)
            throw shape_error("flat_index::add: " + std::to_string(vectors.size()) +
                              " floats is not a multiple of the dimension " + std::to_string(header_.dimension));
        host_.reserve(host_.size() + vectors.size());
        for (const float v : vectors) host_.push_back(from_float<element>(v));
        dirty_ = true;
    }

    /// The k best passages (inner product) of each query [queries, dimension] (host f32); k is
    /// clamped to size(). Query blocks keep the score matrix under `score_budget` floats.
    search_result search(std::span<const float> queries, std::int64_t k, std::int64_t score_budget = 1 << 24) {
        const std::int64_t D = header_.dimension, N = size();
        if (queries.size() % static_cast<std::size_t>(D) != 0)
            throw shape_error("flat_index::search: " + std::to_string(queries.size()) +
                              " floats is not a multiple of the dimension " + std::to_string(D));
        search_result r;
        r.queries = static_cast<std::int64_t>(queries.size()) / D;
        r.k = std::clamp<std::int64_t>(k, 0, N);
        r.scores.resize(static_cast<std::size_t>(r.queries * r.k));
        r.ids.resize(r.scores.size());
        if (r.queries == 0 || r.k == 0) return r;
        sync();
        const std::int64_t block = std::clamp<std::int64_t>(score_budget / N, 1, r.queries);
        if (qbuf_.size() < static_cast<std::size_t>(block * D)) {
            qbuf_ = buffer<Context, float>(*ctx_, static_cast<std::size_t>(block * D));
            qcast_ = buffer<Context, element>(*ctx_, static_cast<std::size_t>(block * D));
        }
        if (scores_.size() < static_cast<std::size_t>(block * N)) scores_ = buffer<Context, float>(*ctx_, static_cast<std::size_t>(block * N));
        if (top_v_.size() < static_cast<std::size_t>(block * r.k)) {
            top_v_ = buffer<Context, float>(*ctx_, static_cast<std::size_t>(block * r.k));
            top_i_ = buffer<Context, std::int32_t>(*ctx_, static_cast<std::size_t>(block * r.k));
        }
        for (std::int64_t q0 = 0; q0 < r.queries; q0 += block) {
            const std::int64_t m = std::min(block, r.queries - q0);
            upload(*ctx_, qbuf_.data(), queries.data() + q0 * D, static_cast<std::size_t>(m * D) * sizeof(float));
            const void* a = qbuf_.data();
            if constexpr (Storage::type != dtype::f32) {
                cast(*ctx_, qcast_.data(), Storage::type, qbuf_.data(), dtype::f32, m * D);
                a = qcast_.data();
            }
            gemm_desc d{.m = m, .n = N, .k = D, .trans_b = true, .ab_type = Storage::type};
            gemm(*ctx_, packed(d), a, device_.data(), scores_.data());
            topk(*ctx_, top_v_.data(), top_i_.data(), scores_.data(), m, N, r.k);
            download(*ctx_, r.scores.data() + q0 * r.k, top_v_.data(), static_cast<std::size_t>(m * r.k) * sizeof(float));
            download(*ctx_, r.ids.data() + q0 * r.k, top_i_.data(), static_cast<std::size_t>(m * r.k) * 4);
        }
        return r;
    }

    /// Writes the index durably to `path` (safetensors with the header in its metadata).
    void save(const std::filesystem::path& path) const {
        auto meta = to_metadata(header_);
        meta["format"] = std::string(flat_index_format);
        shape dims;
        dims.dims[0] = size(), dims.dims[1] = header_.dimension, dims.rank = 2;
        const io::safetensors_entry e{"vectors", Storage::file_type, dims, std::as_bytes(std::span(host_))};
        io::write_safetensors(path, std::span(&e, 1), meta);
    }

    /// Reads an index written by save(); throws format_error for a file that is not one, and
    /// config_error when its header differs from `expected` (see require_match).
    static flat_index load(Context& ctx, const std::filesystem::path& path, const index_header& expected) {
        const io::safetensors_file f(path);
        const std::string origin = path.string();
        const auto fmt = f.metadata().find("format");
        if (fmt == f.metadata().end() || fmt->second != flat_index_format)
            throw format_error(origin + ": not a hoprag flat index (metadata \"format\" is not \"" +
                               std::string(flat_index_format) + "\")");
        const index_header found = from_metadata(f.metadata(), origin);
        require_match(found, expected, origin);
        const io::safetensors_tensor* t = f.find("vectors");
        if (!t || t->dims.rank != 2 || t->dims[1] != found.dimension)
            throw format_error(origin + ": tensor \"vectors\" must be [count, " + std::to_string(found.dimension) + "]");
        if (t->type != Storage::file_type)
            throw config_error(origin + ": vectors are stored as " + std::string(io::st_dtype_name(t->type)) +
                               ", this index type reads " + std::string(io::st_dtype_name(Storage::file_type)));
        flat_index idx(ctx, found);
        idx.host_.resize(static_cast<std::size_t>(t->numel()));
        std::memcpy(idx.host_.data(), t->bytes.data(), t->bytes.size());
        idx.dirty_ = true;
        return idx;
    }

    /// Host copy of the stored vectors [size(), dimension] (storage type).
    const std::vector<element>& vectors() const { return host_; }

private:
    void sync() {
        if (!dirty_) return;
        device_ = buffer<Context, element>(*ctx_, host_.size());
        upload(*ctx_, device_.data(), host_.data(), host_.size() * sizeof(element));
        dirty_ = false;
    }

    Context* ctx_;
    index_header header_;
    std::vector<element> host_;
    bool dirty_ = true;
    buffer<Context, element> device_, qcast_;
    buffer<Context, float> qbuf_, scores_, top_v_;
    buffer<Context, std::int32_t> top_i_;
};

}  // namespace hoprag::components
