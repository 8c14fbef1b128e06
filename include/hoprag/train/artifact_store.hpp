// A local artifact store with Weights & Biases semantics. Under a root folder each named artifact
// (a checkpoint, an adapter, an index) has versions v0, v1, ... and two aliases: `latest` (the
// last version logged) and `best` (by a chosen eval metric and direction). Layout:
//   ROOT/NAME/vN/manifest.json   metadata (step, eval_f1, eval_em, base_model, lora_rank,
//                                sequence_length, hoprag_version, config_hash, ...) and per file
//                                its size, CRC-32 and compression
//   ROOT/NAME/vN/FILE[.zz]       the files, zlib-compressed when compression is on
//   ROOT/NAME/aliases.json       {"latest": N, "best": N}
// Crash consistency: a version is written into ROOT/NAME/.staging-vN-PID, every file and the folder
// fsynced, then renamed to vN; aliases.json is rewritten durably after that. A kill at any moment
// leaves only complete versions visible and aliases that point at them; leftovers (.staging-*,
// .trash-*) are swept by the next log. The cap (default 500 MB) bounds the bytes a version stores
// (compressed when compression is on; without it the input sizes are checked before writing): over
// it, config_error, the staging folder is removed and the store is unchanged. Retention keeps the
// last K versions plus every alias target and deletes others by renaming them to .trash-* first.
// One writer per artifact name at a time. Mirroring versions to Weights & Biases: train/wandb.hpp.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>
#include <zlib.h>

#include <nlohmann/json.hpp>

#include "hoprag/core/config.hpp"
#include "hoprag/core/error.hpp"
#include "hoprag/io/durable_file.hpp"

namespace hoprag::train {

enum class metric_direction { maximize, minimize };

struct artifact_options {
    std::uint64_t max_bytes = 500'000'000;  // size cap of one version (stored bytes: compressed when compress is on)
    std::int64_t keep_last = 5;             // retention: keep this many newest versions (0 = all) plus alias targets
    std::string best_metric = "eval_f1";    // metric that decides the `best` alias
    metric_direction best_direction = metric_direction::maximize;
    bool compress = true;                   // zlib-compress every file
    int compression_level = 1;              // zlib level 1 (fast) .. 9 (small)
};

/// What is recorded with a version. Metrics absent or NaN are written as null.
struct artifact_metadata {
    std::int64_t step = -1;
    std::string base_model;
    std::int64_t lora_rank = 0;
    std::int64_t sequence_length = 0;
    std::string config_hash;
    std::map<std::string, double> metrics;  // eval_f1, eval_em, loss, ...
    nlohmann::json extra = nlohmann::json::object();
};

/// A complete version in the store.
struct artifact_version {
    std::string name;
    std::int64_t version = -1;
    std::filesystem::path dir;  // ROOT/NAME/vN
    nlohmann::json manifest;    // the whole manifest.json
    std::string tag() const { return "v" + std::to_string(version); }
};

namespace detail {

inline bool valid_artifact_name(const std::string& n) {
    if (n.empty() || n.size() > 128 || n[0] == '.') return false;
    return n.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == std::string::npos;
}

/// Version number of a folder called "vN", or -1.
inline std::int64_t parse_version_dir(const std::string& s) {
    if (s.size() < 2 || s[0] != 'v' || s.size() > 19) return -1;
    if (s.find_first_not_of("0123456789", 1) != std::string::npos) return -1;
    if (s.size() > 2 && s[1] == '0') return -1;
    return std::stoll(s.substr(1));
}

inline std::string mb(std::uint64_t bytes) {
    char b[32];
    std::snprintf(b, sizeof b, "%.1f MB", static_cast<double>(bytes) / 1e6);
    return b;
}

/// Streams `src` into `w` (deflated when `level` >= 0), returning the CRC-32 of the raw bytes.
inline std::uint32_t copy_into(const std::filesystem::path& src, io::durable_writer& w, int level) {
    std::ifstream in(src, std::ios::binary);
    if (!in) throw io_error("artifact: cannot open '" + src.string() + "' for reading");
    std::vector<char> buf(1 << 20);
    std::vector<unsigned char> out(1 << 20);
    uLong crc = ::crc32(0L, Z_NULL, 0);
    z_stream zs{};
    if (level >= 0 && deflateInit(&zs, level) != Z_OK) throw io_error("artifact: zlib deflateInit failed");
    struct guard {
        z_stream* z;
        bool on;
        ~guard() {
            if (on) deflateEnd(z);
        }
    } g{&zs, level >= 0};
    for (;;) {
        in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        const auto n = static_cast<std::size_t>(in.gcount());
        if (in.bad()) throw io_error("artifact: read error in '" + src.string() + "'");
        crc = ::crc32(crc, reinterpret_cast<const Bytef*>(buf.data()), static_cast<uInt>(n));
        const bool last = n < buf.size();
        if (level < 0) {
            w.write(std::as_bytes(std::span<const char>(buf.data(), n)));
        } else {
            zs.next_in = reinterpret_cast<Bytef*>(buf.data());
            zs.avail_in = static_cast<uInt>(n);
            int rc;
            do {
                zs.next_out = out.data();
                zs.avail_out = static_cast<uInt>(out.size());
                rc = deflate(&zs, last ? Z_FINISH : Z_NO_FLUSH);
                if (rc == Z_STREAM_ERROR) throw io_error("artifact: zlib deflate failed on '" + src.string() + "'");
                w.write(std::as_bytes(std::span<const unsigned char>(out.data(), out.size() - zs.avail_out)));
            } while (zs.avail_out == 0 || (last && rc != Z_STREAM_END));
        }
        if (last) break;
    }
    return static_cast<std::uint32_t>(crc);
}

/// Streams stored file `src` into `w` (inflating when `compressed`); returns (raw size, CRC-32).
inline std::pair<std::uint64_t, std::uint32_t> extract_into(const std::filesystem::path& src, bool compressed, io::durable_writer& w) {
    std::ifstream in(src, std::ios::binary);
    if (!in) throw io_error("artifact: cannot open '" + src.string() + "' for reading");
    std::vector<char> buf(1 << 20);
    std::vector<unsigned char> out(1 << 20);
    uLong crc = ::crc32(0L, Z_NULL, 0);
    std::uint64_t size = 0;
    const auto emit = [&](const void* p, std::size_t n) {
        crc = ::crc32(crc, static_cast<const Bytef*>(p), static_cast<uInt>(n));
        size += n;
        w.write(std::as_bytes(std::span<const char>(static_cast<const char*>(p), n)));
    };
    z_stream zs{};
    if (compressed && inflateInit(&zs) != Z_OK) throw io_error("artifact: zlib inflateInit failed");
    struct guard {
        z_stream* z;
        bool on;
        ~guard() {
            if (on) inflateEnd(z);
        }
    } g{&zs, compressed};
    int rc = Z_OK;
    while (in) {
        in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        const auto n = static_cast<std::size_t>(in.gcount());
        if (!compressed) {
            emit(buf.data(), n);
            continue;
        }
        zs.next_in = reinterpret_cast<Bytef*>(buf.data());
        zs.avail_in = static_cast<uInt>(n);
        do {  // while the output buffer fills up, more output is pending
            zs.next_out = out.data();
            zs.avail_out = static_cast<uInt>(out.size());
            rc = inflate(&zs, Z_NO_FLUSH);
            if (rc == Z_NEED_DICT || rc == Z_DATA_ERROR || rc == Z_MEM_ERROR || rc == Z_STREAM_ERROR)
                throw format_error("artifact: '" + src.string() + "' is not a valid zlib stream");
            emit(out.data(), out.size() - zs.avail_out);
        } while (zs.avail_out == 0 && rc != Z_STREAM_END);
        if (rc == Z_STREAM_END) break;
    }
    if (compressed && rc != Z_STREAM_END) throw format_error("artifact: '" + src.string() + "' is truncated (zlib stream not finished)");
    return {size, static_cast<std::uint32_t>(crc)};
}

}  // namespace detail

/// The store under one root folder.
class artifact_store {
public:
    /// Opens (creating) the store at `root`.
    explicit artifact_store(std::filesystem::path root, artifact_options opt = {}) : root_(std::move(root)), opt_(std::move(opt)) {
        if (opt_.keep_last < 0) throw config_error("artifact_store: keep_last = " + std::to_string(opt_.keep_last) + " must be >= 0");
        if (opt_.compression_level < 1 || opt_.compression_level > 9)
            throw config_error("artifact_store: compression_level = " + std::to_string(opt_.compression_level) + " must be in 1..9");
        std::error_code ec;
        std::filesystem::create_directories(root_, ec);
        if (ec) throw io_error("artifact_store: cannot create '" + root_.string() + "': " + ec.message());
    }

    const std::filesystem::path& root() const { return root_; }
    const artifact_options& options() const { return opt_; }

    /// Logs `files` as the next version of `name`, moves `latest` to it and `best` when its metric
    /// beats the current best (a version without the metric never becomes best unless none has
    /// one), then applies retention. File names must be distinct. Throws config_error (bad name,
    /// over the size cap: nothing written), io_error (write failure: no new version visible).
    artifact_version log(const std::string& name, const std::vector<std::filesystem::path>& files, const artifact_metadata& meta) {
        check_name(name);
        if (files.empty()) throw config_error("artifact '" + name + "': no files to log");
        std::uint64_t total = 0;
        std::map<std::string, std::uint64_t> sizes;
        for (const auto& f : files) {
            std::error_code ec;
            const auto s = std::filesystem::file_size(f, ec);
            if (ec) throw io_error("artifact '" + name + "': cannot read '" + f.string() + "': " + ec.message());
            const std::string base = f.filename().string();
            if (base == "manifest.json" || !sizes.emplace(base, s).second)
                throw config_error("artifact '" + name + "': file name '" + base + "' is reserved or repeated");
            total += s;
        }
        const auto over_cap = [&](std::uint64_t bytes, const std::string& what) {
            return config_error("artifact '" + name + "': " + detail::mb(bytes) + what + " exceeds the size cap of " + detail::mb(opt_.max_bytes) +
                                "; nothing was written (raise artifact_options::max_bytes or log fewer files)");
        };
        if (!opt_.compress && total > opt_.max_bytes) throw over_cap(total, "");
        const auto dir = root_ / name;
        const bool new_name = !std::filesystem::exists(dir);
        std::filesystem::create_directories(dir);
        sweep(dir);
        auto vs = versions(name);
        const std::int64_t n = vs.empty() ? 0 : vs.back() + 1;
        const auto staging = dir / (".staging-v" + std::to_string(n) + "-" + std::to_string(::getpid()));
        std::filesystem::create_directories(staging);

        nlohmann::ordered_json man;
        man["name"] = name;
        man["version"] = n;
        man["step"] = meta.step;
        for (const char* k : {"eval_f1", "eval_em"}) man[k] = nullptr;
        for (const auto& [k, v] : meta.metrics) man[k] = std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json();
        man["base_model"] = meta.base_model;
        man["lora_rank"] = meta.lora_rank;
        man["sequence_length"] = meta.sequence_length;
        man["hoprag_version"] = HOPRAG_VERSION_STRING;
        man["config_hash"] = meta.config_hash;
        man["extra"] = meta.extra;
        man["compression"] = opt_.compress ? "zlib" : "none";
        man["files"] = nlohmann::ordered_json::array();
        std::uint64_t stored_total = 0;
        for (const auto& f : files) {
            const std::string base = f.filename().string();
            const std::string stored = opt_.compress ? base + ".zz" : base;
            io::durable_writer w(staging / stored);
            const auto crc = detail::copy_into(f, w, opt_.compress ? opt_.compression_level : -1);
            w.commit();
            stored_total += w.size();
            if (stored_total > opt_.max_bytes) {
                std::filesystem::remove_all(new_name ? dir : staging);
                throw over_cap(stored_total, " (compressed, after " + std::to_string(man["files"].size() + 1) + " of " +
                                                 std::to_string(files.size()) + " files)");
            }
            man["files"].push_back({{"name", base}, {"stored", stored}, {"bytes", sizes[base]}, {"stored_bytes", w.size()}, {"crc32", crc}});
        }
        io::write_file_durably(staging / "manifest.json", man.dump(2) + "\n");
        const auto final_dir = dir / ("v" + std::to_string(n));
        if (::rename(staging.c_str(), final_dir.c_str()) != 0)
            throw io_error(io::detail::errno_message("artifact: cannot rename '" + staging.string() + "' to", final_dir.string(), errno));
        io::detail::fsync_parent_dir(final_dir);

        auto al = aliases(name);
        al["latest"] = n;
        if (!al.contains("best") || better(man, load_manifest(name, al["best"].get<std::int64_t>()))) al["best"] = n;
        io::write_file_durably(dir / "aliases.json", al.dump() + "\n");
        retain(name, al);
        return artifact_version{name, n, final_dir, nlohmann::json(man)};
    }

    /// Complete versions of `name`, ascending (empty if the artifact does not exist).
    std::vector<std::int64_t> versions(const std::string& name) const {
        check_name(name);
        std::vector<std::int64_t> out;
        const auto dir = root_ / name;
        std::error_code ec;
        if (!std::filesystem::is_directory(dir, ec)) return out;
        for (const auto& e : std::filesystem::directory_iterator(dir)) {
            const auto v = detail::parse_version_dir(e.path().filename().string());
            if (v >= 0 && std::filesystem::exists(e.path() / "manifest.json")) out.push_back(v);
        }
        std::sort(out.begin(), out.end());
        return out;
    }

    /// The alias map {"latest": N, "best": N} of `name` (empty object if none yet).
    nlohmann::json aliases(const std::string& name) const {
        const auto p = root_ / name / "aliases.json";
        std::ifstream in(p);
        if (!in) return nlohmann::json::object();
        const auto j = nlohmann::json::parse(in, nullptr, false);
        if (j.is_discarded() || !j.is_object()) throw format_error("artifact '" + name + "': '" + p.string() + "' is not a JSON object");
        return j;
    }

    /// The version `ref` names: "latest", "best", "vN" or "N". Throws config_error when the artifact
    /// or the version does not exist (the message says what does).
    artifact_version resolve(const std::string& name, const std::string& ref = "latest") const {
        check_name(name);
        std::int64_t v = -1;
        const auto al = aliases(name);
        if (al.contains(ref)) v = al[ref].get<std::int64_t>();
        else if (detail::parse_version_dir(ref) >= 0) v = detail::parse_version_dir(ref);
        else if (!ref.empty() && ref.find_first_not_of("0123456789") == std::string::npos) v = std::stoll(ref);
        const auto vs = versions(name);
        if (v < 0 || !std::binary_search(vs.begin(), vs.end(), v)) {
            std::string have;
            for (auto x : vs) have += (have.empty() ? "v" : ", v") + std::to_string(x);
            throw config_error("artifact '" + name + "' in '" + root_.string() + "' has no version '" + ref + "' (versions: " +
                               (have.empty() ? "none" : have) + ")");
        }
        return artifact_version{name, v, root_ / name / ("v" + std::to_string(v)), load_manifest(name, v)};
    }

    /// Writes the files of version `ref` of `name`, decompressed and CRC-checked, into `dest`
    /// (created; each file written durably). Returns their paths. Throws format_error when a file
    /// is damaged (size or CRC differs from the manifest).
    std::vector<std::filesystem::path> fetch(const std::string& name, const std::string& ref, const std::filesystem::path& dest) const {
        const auto av = resolve(name, ref);
        std::filesystem::create_directories(dest);
        const bool compressed = av.manifest.value("compression", "none") == "zlib";
        std::vector<std::filesystem::path> out;
        for (const auto& f : av.manifest.at("files")) {
            const auto target = dest / f.at("name").get<std::string>();
            io::durable_writer w(target);
            const auto [size, crc] = detail::extract_into(av.dir / f.at("stored").get<std::string>(), compressed, w);
            if (size != f.at("bytes").get<std::uint64_t>() || crc != f.at("crc32").get<std::uint32_t>())
                throw format_error("artifact '" + name + "' " + av.tag() + ": file '" + f.at("name").get<std::string>() +
                                   "' is damaged (size or CRC-32 differs from the manifest)");
            w.commit();
            out.push_back(target);
        }
        return out;
    }

    /// True when every file of the version is present with the size the manifest records.
    bool complete(const artifact_version& av) const {
        std::error_code ec;
        for (const auto& f : av.manifest.at("files"))
            if (std::filesystem::file_size(av.dir / f.at("stored").get<std::string>(), ec) != f.at("stored_bytes").get<std::uint64_t>() || ec)
                return false;
        return true;
    }

private:
    void check_name(const std::string& name) const {
        if (!detail::valid_artifact_name(name))
            throw config_error("artifact name '" + name + "' is invalid; use letters, digits, '-', '_' and '.' (not first)");
    }

    nlohmann::json load_manifest(const std::string& name, std::int64_t v) const {
        const auto p = root_ / name / ("v" + std::to_string(v)) / "manifest.json";
        std::ifstream in(p);
        if (!in) throw io_error("artifact '" + name + "': cannot read '" + p.string() + "'");
        const auto j = nlohmann::json::parse(in, nullptr, false);
        if (j.is_discarded() || !j.is_object()) throw format_error("artifact '" + name + "': '" + p.string() + "' is not a JSON object");
        return j;
    }

    /// Does `cand` beat `best` on the chosen metric? A finite value beats a missing one.
    template <class A, class B>
    bool better(const A& cand, const B& best) const {
        const auto val = [&](const auto& m) {
            const auto it = m.find(opt_.best_metric);
            return it != m.end() && it->is_number() ? it->template get<double>() : NAN;
        };
        const double c = val(cand), b = val(best);
        if (!std::isfinite(c)) return false;
        if (!std::isfinite(b)) return true;
        return opt_.best_direction == metric_direction::maximize ? c > b : c < b;
    }

    /// Removes leftovers of interrupted logs and deletions.
    static void sweep(const std::filesystem::path& dir) {
        for (const auto& e : std::filesystem::directory_iterator(dir)) {
            const auto n = e.path().filename().string();
            if (n.rfind(".staging-", 0) == 0 || n.rfind(".trash-", 0) == 0) std::filesystem::remove_all(e.path());
        }
    }

    void retain(const std::string& name, const nlohmann::json& al) {
        if (opt_.keep_last == 0) return;
        const auto vs = versions(name);
        const auto dir = root_ / name;
        for (std::size_t i = 0; i + static_cast<std::size_t>(opt_.keep_last) < vs.size(); ++i) {
            bool pinned = false;
            for (const auto& [k, v] : al.items()) pinned = pinned || v.get<std::int64_t>() == vs[i];
            if (pinned) continue;
            const auto from = dir / ("v" + std::to_string(vs[i]));
            const auto trash = dir / (".trash-v" + std::to_string(vs[i]) + "-" + std::to_string(::getpid()));
            if (::rename(from.c_str(), trash.c_str()) != 0)
                throw io_error(io::detail::errno_message("artifact: cannot retire", from.string(), errno));
            std::filesystem::remove_all(trash);
        }
        io::detail::fsync_parent_dir(dir / "aliases.json");
    }

    std::filesystem::path root_;
    artifact_options opt_;
};

}  // namespace hoprag::train
