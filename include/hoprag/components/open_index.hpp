// Opening a saved index of whichever kind the file holds: `with_index_file` reads the file's
// metadata (index_file_kind), loads an exact flat_index<Context, Storage> or a FAISS IVF-Flat /
// HNSW-Flat index checked against the expected header, applies the run-time search parameters
// given, and calls f(index, kind) with the loaded index, so a program writes its search code once
// for every kind.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "hoprag/components/faiss_index.hpp"
#include "hoprag/components/flat_index.hpp"
#include "hoprag/components/index_header.hpp"
#include "hoprag/core/error.hpp"

namespace hoprag::components {

/// Search parameters that override the ones saved with an approximate index.
struct index_search_options {
    std::optional<std::int64_t> nprobe;     // IVF lists searched per query
    std::optional<std::int64_t> ef_search;  // HNSW search beam width
};

/// Loads `path` (flat indexes with vector storage `Storage` on `ctx`) after checking its header
/// against `expected`, and returns f(index, kind) where kind is "flat", "ivf" or "hnsw". Throws
/// format_error for a file that is not a hoprag index or holds another kind, and what the loaders
/// throw (a header that differs, damaged bytes).
template <class Storage, class Context, class F>
decltype(auto) with_index_file(Context& ctx, const std::filesystem::path& path, const index_header& expected, F&& f,
                               const index_search_options& search = {}) {
    const std::string kind = index_file_kind(path);
    if (kind == "ivf") {
        auto index = faiss_index<ivf_flat>::load(path, expected);
        if (search.nprobe) index.kind().nprobe = *search.nprobe;
        return f(index, kind);
    }
    if (kind == "hnsw") {
        auto index = faiss_index<hnsw_flat>::load(path, expected);
        if (search.ef_search) index.kind().ef_search = *search.ef_search;
        return f(index, kind);
    }
    if (kind == "flat") {
        auto index = flat_index<Context, Storage>::load(ctx, path, expected);
        return f(index, kind);
    }
    throw format_error(path.string() + ": unknown index kind \"" + kind + "\" (hoprag reads flat, ivf and hnsw indexes)");
}

}  // namespace hoprag::components
