// What a dense index was built from, stored in its file and checked on load: the encoder (model
// id, dimension, pooling, normalisation) and a hash of the passage corpus. An index whose header
// differs from what the caller expects is refused with a config_error that lists every differing
// field with both values, so a user knows whether to rebuild the index or pick another model.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <string_view>

#include "hoprag/core/error.hpp"

namespace hoprag::components {

struct index_header {
    std::string model;             ///< encoder model id (model folder name)
    std::int64_t dimension = 0;    ///< vector size
    std::string pooling;           ///< "cls" or "mean"
    bool normalized = true;        ///< vectors L2-normalised (inner product = cosine)
    std::string corpus_hash;       ///< corpus_hasher digest of the passages, in index order
};

/// FNV-1a 64 over length-prefixed strings: a cheap fingerprint of a passage list.
class corpus_hasher {
public:
    void add(std::string_view s) {
        const std::uint64_t n = s.size();
        for (int i = 0; i < 8; ++i) byte(static_cast<unsigned char>(n >> (8 * i)));
        for (const char c : s) byte(static_cast<unsigned char>(c));
    }
    /// 16 hex digits.
    std::string hex() const {
        char buf[17];
        std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h_));
        return buf;
    }

private:
    void byte(unsigned char c) { h_ = (h_ ^ c) * 1099511628211ull; }
    std::uint64_t h_ = 1469598103934665603ull;
};

/// The header as string metadata (file format fields).
inline std::map<std::string, std::string> to_metadata(const index_header& h) {
    return {{"model", h.model},
            {"dimension", std::to_string(h.dimension)},
            {"pooling", h.pooling},
            {"normalized", h.normalized ? "true" : "false"},
            {"corpus_hash", h.corpus_hash}};
}

/// Reads a header back from metadata; throws format_error naming `origin` and the missing field.
inline index_header from_metadata(const std::map<std::string, std::string>& m, const std::string& origin) {
    const auto get = [&](const char* key) -> const std::string& {
        const auto it = m.find(key);
        if (it == m.end()) throw format_error(origin + ": index header lacks the field \"" + key + "\"");
        return it->second;
    };
    index_header h;
    h.model = get("model");
    try {
        h.dimension = std::stoll(get("dimension"));
    } catch (const std::logic_error&) {
        throw format_error(origin + ": index header field \"dimension\" is not a number: \"" + get("dimension") + "\"");
    }
    h.pooling = get("pooling");
    const auto& n = get("normalized");
    if (n != "true" && n != "false")
        throw format_error(origin + ": index header field \"normalized\" must be true or false, found \"" + n + "\"");
    h.normalized = n == "true";
    h.corpus_hash = get("corpus_hash");
    return h;
}

/// Throws config_error naming `origin` and every field where `found` differs from `expected`.
inline void require_match(const index_header& found, const index_header& expected, const std::string& origin) {
    std::string diff;
    const auto cmp = [&](const char* field, const std::string& f, const std::string& e) {
        if (f != e) diff += std::string(diff.empty() ? "" : "; ") + field + " is \"" + f + "\", expected \"" + e + "\"";
    };
    cmp("model", found.model, expected.model);
    cmp("dimension", std::to_string(found.dimension), std::to_string(expected.dimension));
    cmp("pooling", found.pooling, expected.pooling);
    cmp("normalized", found.normalized ? "true" : "false", expected.normalized ? "true" : "false");
    cmp("corpus_hash", found.corpus_hash, expected.corpus_hash);
    if (!diff.empty())
        throw config_error(origin + ": the index does not match this encoder and corpus (" + diff +
                           "); rebuild it with hoprag-index or pass the model, corpus files and --unit it was built from");
}

}  // namespace hoprag::components
