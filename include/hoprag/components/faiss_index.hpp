// Approximate inner-product indexes backed by FAISS (Debian libfaiss-dev, CPU) for corpora where
// exact search is too slow (full-wiki HotpotQA is ~5M passages). The index kind is a policy type:
// `ivf_flat` (k-means coarse quantiser with `nlist` lists, `nprobe` of them searched; trained on
// the encoded corpus itself) or `hnsw_flat` (graph with `m` links per node, `ef_construction` /
// `ef_search` beam widths). Both store the full f32 vectors and score by inner product (= cosine
// for normalised vectors). `faiss_index<Kind>` satisfies `dense_index`: add() collects vectors
// and the first search()/save()/build() trains (IVF) and inserts them, later add()s insert
// directly. Saved as a safetensors file (tensor "faiss" U8 [bytes] = faiss::write_index) whose
// metadata carries the index_header, "format" = "hoprag-faiss-index", the kind, its parameters
// and an FNV-1a checksum of the FAISS bytes, written durably (temp file, fsync, rename); load()
// refuses other formats, another kind, a header that differs from the expected one and damaged
// bytes, each with a message naming the file.
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/io.h>
#include <faiss/index_io.h>

#include "hoprag/components/flat_index.hpp"
#include "hoprag/components/index_header.hpp"
#include "hoprag/core/error.hpp"
#include "hoprag/io/safetensors.hpp"

namespace hoprag::components {

inline constexpr std::string_view faiss_index_format = "hoprag-faiss-index";

namespace detail {
inline std::int64_t param(const std::map<std::string, std::string>& m, const char* key, const std::string& origin) {
    const auto it = m.find(key);
    if (it == m.end()) throw format_error(origin + ": FAISS index metadata lacks \"" + key + "\"");
    try {
        std::size_t used = 0;
        const long long v = std::stoll(it->second, &used);
        if (used == it->second.size() && v > 0) return v;
    } catch (const std::logic_error&) {
    }
    throw format_error(origin + ": FAISS index metadata \"" + key + "\" must be a positive integer, found \"" +
                       it->second + "\"");
}
inline std::string fnv1a_hex(std::span<const std::uint8_t> bytes) {
    std::uint64_t h = 1469598103934665603ull;
    for (const auto b : bytes) h = (h ^ b) * 1099511628211ull;
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return buf;
}
}  // namespace detail

/// IVF-Flat: `nlist` k-means lists (0 = about 4·sqrt(count), at most count), `nprobe` searched.
struct ivf_flat {
    static constexpr std::string_view name = "ivf";
    std::int64_t nlist = 0;   ///< lists; 0 picks 4·sqrt(n) at build time
    std::int64_t nprobe = 16; ///< lists visited per query (recall vs speed)

    std::unique_ptr<faiss::Index> make(std::int64_t dim, std::int64_t count) {
        if (nlist <= 0)
            nlist = std::clamp<std::int64_t>(static_cast<std::int64_t>(4 * std::sqrt(double(count))), 1, std::max<std::int64_t>(count, 1));
        if (count < nlist)
            throw config_error("ivf index: " + std::to_string(count) + " vectors cannot train " + std::to_string(nlist) +
                               " lists; use nlist <= the corpus size (or 0 for 4*sqrt(n)), or a flat index");
        auto quantizer = new faiss::IndexFlatIP(dim);
        auto idx = std::make_unique<faiss::IndexIVFFlat>(quantizer, dim, static_cast<std::size_t>(nlist),
                                                         faiss::METRIC_INNER_PRODUCT);
        idx->own_fields = true;
        return idx;
    }
    /// Applies the search parameters; false if `index` is not an IVF-Flat inner-product index.
    bool configure(faiss::Index& index, std::int64_t /*k*/) const {
        auto* ivf = dynamic_cast<faiss::IndexIVFFlat*>(&index);
        if (!ivf) return false;
        ivf->nprobe = static_cast<std::size_t>(std::min<std::int64_t>(nprobe, static_cast<std::int64_t>(ivf->nlist)));
        return true;
    }
    std::map<std::string, std::string> to_metadata() const {
        return {{"nlist", std::to_string(nlist)}, {"nprobe", std::to_string(nprobe)}};
    }
    static ivf_flat from_metadata(const std::map<std::string, std::string>& m, const std::string& origin) {
        return {detail::param(m, "nlist", origin), detail::param(m, "nprobe", origin)};
    }
};

/// HNSW-Flat: `m` links per node, beam `ef_construction` while building, `ef_search` (at least k)
/// while searching.
struct hnsw_flat {
    static constexpr std::string_view name = "hnsw";
    std::int64_t m = 32;
    std::int64_t ef_construction = 80;
    std::int64_t ef_search = 128;

    std::unique_ptr<faiss::Index> make(std::int64_t dim, std::int64_t /*count*/) const {
        auto idx = std::make_unique<faiss::IndexHNSWFlat>(static_cast<int>(dim), static_cast<int>(m),
                                                          faiss::METRIC_INNER_PRODUCT);
        idx->hnsw.efConstruction = static_cast<int>(ef_construction);
        return idx;
    }
    bool configure(faiss::Index& index, std::int64_t k) const {
        auto* h = dynamic_cast<faiss::IndexHNSWFlat*>(&index);
        if (!h) return false;
        h->hnsw.efSearch = static_cast<int>(std::max(ef_search, k));
        return true;
    }
    std::map<std::string, std::string> to_metadata() const {
        return {{"m", std::to_string(m)}, {"ef_construction", std::to_string(ef_construction)},
                {"ef_search", std::to_string(ef_search)}};
    }
    static hnsw_flat from_metadata(const std::map<std::string, std::string>& m, const std::string& origin) {
        return {detail::param(m, "m", origin), detail::param(m, "ef_construction", origin),
                detail::param(m, "ef_search", origin)};
    }
};

/// What a FAISS index kind provides (see ivf_flat, hnsw_flat).
template <class K>
concept faiss_kind = std::copy_constructible<K> && requires(K& k, const K& ck, faiss::Index& i,
                                                              const std::map<std::string, std::string>& m) {
    { K::name } -> std::convertible_to<std::string_view>;
    { k.make(std::int64_t{}, std::int64_t{}) } -> std::same_as<std::unique_ptr<faiss::Index>>;
    { ck.configure(i, std::int64_t{}) } -> std::same_as<bool>;
    { ck.to_metadata() } -> std::same_as<std::map<std::string, std::string>>;
    { K::from_metadata(m, std::string{}) } -> std::same_as<K>;
};

/// The "format" and "kind" metadata of an index file ("hoprag-flat-index" has no kind: "flat"),
/// so a program can open whichever kind a file holds. Throws format_error for other files.
inline std::string index_file_kind(const std::filesystem::path& path) {
    const io::safetensors_file f(path);
    const auto& m = f.metadata();
    const auto fmt = m.find("format");
    if (fmt != m.end() && fmt->second == flat_index_format) return "flat";
    const auto kind = m.find("kind");
    if (fmt != m.end() && fmt->second == faiss_index_format && kind != m.end()) return kind->second;
    throw format_error(path.string() + ": not a hoprag index (metadata \"format\" is neither \"" +
                       std::string(flat_index_format) + "\" nor \"" + std::string(faiss_index_format) + "\")");
}

template <faiss_kind Kind>
class faiss_index {
public:
    faiss_index(index_header header, Kind kind = {}) : header_(std::move(header)), kind_(kind) {
        if (header_.dimension <= 0)
            throw config_error("faiss_index: dimension must be > 0, found " + std::to_string(header_.dimension));
    }

    const index_header& header() const { return header_; }
    const Kind& kind() const { return kind_; }
    /// Search parameters may change between searches (nprobe, ef_search).
    Kind& kind() { return kind_; }
    std::int64_t dimension() const { return header_.dimension; }
    std::int64_t size() const {
        return (index_ ? static_cast<std::int64_t>(index_->ntotal) : 0) +
               static_cast<std::int64_t>(pending_.size()) / header_.dimension;
    }

    /// Appends n vectors [n, dimension] (host f32); inserted at the next build().
    void add(std::span<const float> vectors) {
        if (vectors.size() % static_cast<std::size_t>(header_.dimension) != 0)
            throw shape_error("faiss_index::add: " + std::to_string(vectors.size()) +
                              " floats is not a multiple of the dimension " + std::to_string(header_.dimension));
        pending_.insert(pending_.end(), vectors.begin(), vectors.end());
    }

    /// Trains (IVF: on every vector added so far) and inserts the pending vectors.
    void build() {
        if (pending_.empty()) return;
        const std::int64_t n = static_cast<std::int64_t>(pending_.size()) / header_.dimension;
        try {
            if (!index_) {
                index_ = kind_.make(header_.dimension, n);
                if (!index_->is_trained) index_->train(n, pending_.data());
            }
            index_->add(n, pending_.data());
        } catch (const faiss::FaissException& e) {
            throw config_error(std::string("faiss_index::build (") + std::string(Kind::name) + "): " + e.what());
        }
        pending_.clear();
        pending_.shrink_to_fit();
    }

    /// The k best passages (inner product, approximate) of each query [queries, dimension]; k is
    /// clamped to size(). A slot the index could not fill (IVF with few lists probed) has id -1
    /// and score -infinity.
    search_result search(std::span<const float> queries, std::int64_t k) {
        const std::int64_t D = header_.dimension;
        if (queries.size() % static_cast<std::size_t>(D) != 0)
            throw shape_error("faiss_index::search: " + std::to_string(queries.size()) +
                              " floats is not a multiple of the dimension " + std::to_string(D));
        build();
        search_result r;
        r.queries = static_cast<std::int64_t>(queries.size()) / D;
        r.k = std::clamp<std::int64_t>(k, 0, size());
        r.scores.resize(static_cast<std::size_t>(r.queries * r.k));
        r.ids.resize(r.scores.size());
        if (r.queries == 0 || r.k == 0) return r;
        kind_.configure(*index_, r.k);
        std::vector<faiss::Index::idx_t> labels(r.ids.size());
        index_->search(r.queries, queries.data(), r.k, r.scores.data(), labels.data());
        for (std::size_t i = 0; i < labels.size(); ++i) {
            r.ids[i] = static_cast<std::int32_t>(labels[i]);
            if (labels[i] < 0) r.ids[i] = -1, r.scores[i] = -std::numeric_limits<float>::infinity();
        }
        return r;
    }

    /// Builds if needed and writes the index durably to `path`; an empty index is refused.
    void save(const std::filesystem::path& path) {
        build();
        if (!index_) throw config_error("faiss_index::save " + path.string() + ": the index is empty; add vectors first");
        faiss::VectorIOWriter w;
        try {
            faiss::write_index(index_.get(), &w);
        } catch (const faiss::FaissException& e) {
            throw io_error(path.string() + ": cannot serialise the FAISS index: " + e.what());
        }
        auto meta = to_metadata(header_);
        for (auto& [key, value] : kind_.to_metadata()) meta[key] = value;
        meta["format"] = std::string(faiss_index_format);
        meta["kind"] = std::string(Kind::name);
        meta["count"] = std::to_string(index_->ntotal);
        meta["checksum"] = detail::fnv1a_hex(w.data);
        shape dims;
        dims.dims[0] = static_cast<std::int64_t>(w.data.size()), dims.rank = 1;
        const io::safetensors_entry e{"faiss", io::st_dtype::u8, dims, std::as_bytes(std::span(w.data))};
        io::write_safetensors(path, std::span(&e, 1), meta);
    }

    /// Reads an index written by save(); throws format_error for a file that is not one (or is
    /// damaged), config_error for another kind or a header that differs from `expected`.
    static faiss_index load(const std::filesystem::path& path, const index_header& expected) {
        const io::safetensors_file f(path);
        const std::string origin = path.string();
        const auto& m = f.metadata();
        const auto fmt = m.find("format");
        if (fmt == m.end() || fmt->second != faiss_index_format)
            throw format_error(origin + ": not a hoprag FAISS index (metadata \"format\" is not \"" +
                               std::string(faiss_index_format) + "\")");
        const auto kind = m.find("kind");
        if (kind == m.end() || kind->second != Kind::name)
            throw config_error(origin + ": holds a \"" + (kind == m.end() ? std::string("?") : kind->second) +
                               "\" FAISS index, this index type reads \"" + std::string(Kind::name) + "\"");
        const index_header found = from_metadata(m, origin);
        require_match(found, expected, origin);
        faiss_index idx(found, Kind::from_metadata(m, origin));
        const io::safetensors_tensor* t = f.find("faiss");
        if (!t || t->dims.rank != 1 || t->type != io::st_dtype::u8)
            throw format_error(origin + ": tensor \"faiss\" must be U8 [bytes]");
        faiss::VectorIOReader r;
        r.data.resize(t->bytes.size());
        std::memcpy(r.data.data(), t->bytes.data(), t->bytes.size());
        const auto sum = m.find("checksum");
        if (sum == m.end() || sum->second != detail::fnv1a_hex(r.data))
            throw format_error(origin + ": the FAISS bytes do not match their checksum (damaged file); rebuild the index");
        try {
            idx.index_.reset(faiss::read_index(&r));
        } catch (const faiss::FaissException& e) {
            throw format_error(origin + ": cannot read the FAISS index: " + e.what());
        }
        const auto count = detail::param(m, "count", origin);
        if (idx.index_->d != found.dimension || idx.index_->metric_type != faiss::METRIC_INNER_PRODUCT ||
            !idx.kind_.configure(*idx.index_, 1) || idx.index_->ntotal != count)
            throw format_error(origin + ": the FAISS index is not a " + std::string(Kind::name) +
                               " inner-product index of dimension " + std::to_string(found.dimension) + " with " +
                               std::to_string(count) + " vectors");
        return idx;
    }

private:
    index_header header_;
    Kind kind_;
    std::unique_ptr<faiss::Index> index_;
    std::vector<float> pending_;  // [n, dimension] added but not yet inserted
};

}  // namespace hoprag::components
