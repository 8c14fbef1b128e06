// TensorBoard event files without TensorFlow. `tensorboard_writer` creates
// `DIR/events.out.tfevents.<unix seconds>.<host>` and appends TFRecord-framed, hand-encoded
// protobuf `Event` messages: first {wall_time, file_version "brain.Event:2"}, then one event per
// `add_scalars` / `add_text` call holding a `Summary` of scalar values (Value.simple_value) or a
// text value (Value.tensor: a scalar DT_STRING tensor, metadata plugin "text"), and a
// SessionLog START marker for resumed runs. A TFRecord is
// u64 little-endian length, masked CRC32C of those 8 bytes, the payload, masked CRC32C of the
// payload; masking is TensorFlow's ((crc >> 15) | (crc << 17)) + 0xa282ead8. Each record is
// flushed to the kernel as soon as it is written, so killing the process (even kill -9) loses at
// most the record being written; TensorBoard's reader stops quietly at a cut-off last record.
// An event file is append-only by design (TensorBoard tails it while it grows), so it is not
// written through io/durable_file's rename; `sync()` fsyncs it at checkpoints instead.
// `read_tfrecords` is the matching reader (checks both CRCs, ignores a cut-off tail).
// Field numbers follow tensorflow/core/util/event.proto and core/framework/summary.proto.
#pragma once

#include <unistd.h>

#include <array>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fcntl.h>

#include "hoprag/core/error.hpp"

namespace hoprag::train {

namespace tb_detail {

/// CRC32C (Castagnoli, reflected polynomial 0x82F63B78) lookup table, built at compile time.
inline constexpr std::array<std::uint32_t, 256> crc32c_table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t c = i;
        for (int k = 0; k < 8; ++k) c = (c & 1u) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        t[i] = c;
    }
    return t;
}();

/// Appends `v` as a protobuf base-128 varint.
inline void put_varint(std::string& out, std::uint64_t v) {
    while (v >= 0x80) {
        out.push_back(static_cast<char>((v & 0x7F) | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<char>(v));
}
/// Appends a field key: (field << 3) | wire type (0 varint, 1 fixed64, 2 length-delimited, 5 fixed32).
inline void put_key(std::string& out, std::uint32_t field, std::uint32_t wire) { put_varint(out, (static_cast<std::uint64_t>(field) << 3) | wire); }
inline void put_le(std::string& out, std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
inline void put_double(std::string& out, std::uint32_t field, double v) {
    put_key(out, field, 1);
    put_le(out, std::bit_cast<std::uint64_t>(v), 8);
}
inline void put_float(std::string& out, std::uint32_t field, float v) {
    put_key(out, field, 5);
    put_le(out, std::bit_cast<std::uint32_t>(v), 4);
}
inline void put_int(std::string& out, std::uint32_t field, std::int64_t v) {
    put_key(out, field, 0);
    put_varint(out, static_cast<std::uint64_t>(v));  // int64: negative values take 10 bytes
}
inline void put_bytes(std::string& out, std::uint32_t field, std::string_view bytes) {
    put_key(out, field, 2);
    put_varint(out, bytes.size());
    out.append(bytes);
}

/// An Event {wall_time = 1, step = 2, [summary = 5]} around an already encoded Summary.
inline std::string event(double wall_time, std::int64_t step, const std::string* summary) {
    std::string e;
    put_double(e, 1, wall_time);
    put_int(e, 2, step);
    if (summary) put_bytes(e, 5, *summary);
    return e;
}

inline double now_seconds() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }

}  // namespace tb_detail

/// CRC32C (Castagnoli) of `data`, continuing from `crc` (0 to start). crc32c("123456789") = 0xE3069283.
inline std::uint32_t crc32c(std::string_view data, std::uint32_t crc = 0) {
    crc = ~crc;
    for (const char ch : data) crc = tb_detail::crc32c_table[(crc ^ static_cast<unsigned char>(ch)) & 0xFFu] ^ (crc >> 8);
    return ~crc;
}

/// TensorFlow's masked CRC: rotate right by 15 bits, add 0xa282ead8 (mod 2^32).
inline std::uint32_t masked_crc32c(std::string_view data) {
    const std::uint32_t c = crc32c(data);
    return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

/// One TFRecord: u64 length, masked CRC of the 8 length bytes, payload, masked CRC of the payload.
inline std::string tfrecord_frame(std::string_view payload) {
    std::string r;
    r.reserve(payload.size() + 16);
    tb_detail::put_le(r, payload.size(), 8);
    tb_detail::put_le(r, masked_crc32c(std::string_view(r.data(), 8)), 4);
    r.append(payload);
    tb_detail::put_le(r, masked_crc32c(payload), 4);
    return r;
}

/// Encoded Summary { repeated Value value = 1 } with Value { tag = 1, simple_value = 2 (float) }.
inline std::string encode_scalar_summary(const std::vector<std::pair<std::string, double>>& values) {
    std::string s;
    for (const auto& [tag, value] : values) {
        std::string v;
        tb_detail::put_bytes(v, 1, tag);
        tb_detail::put_float(v, 2, static_cast<float>(value));
        tb_detail::put_bytes(s, 1, v);
    }
    return s;
}

/// Encoded Summary with one text Value: tag = 1, metadata = 9 { plugin_data = 1 { plugin_name = 1:
/// "text" } }, tensor = 8 { dtype = 1: DT_STRING (7), tensor_shape = 2: {} (a scalar), string_val = 8 }.
inline std::string encode_text_summary(std::string_view tag, std::string_view text) {
    std::string plugin, metadata, tensor, value, summary;
    tb_detail::put_bytes(plugin, 1, "text");
    tb_detail::put_bytes(metadata, 1, plugin);
    tb_detail::put_int(tensor, 1, 7);
    tb_detail::put_bytes(tensor, 2, "");
    tb_detail::put_bytes(tensor, 8, text);
    tb_detail::put_bytes(value, 1, tag);
    tb_detail::put_bytes(value, 9, metadata);
    tb_detail::put_bytes(value, 8, tensor);
    tb_detail::put_bytes(summary, 1, value);
    return summary;
}

/// Appends TensorBoard events to a new event file in a folder; every record is flushed as written.
/// Not copyable. Throws io_error naming the file when it cannot be created or written.
class tensorboard_writer {
public:
    /// Creates `dir` (and parents) and a new file `events.out.tfevents.<seconds>.<host>` in it
    /// (".1", ".2", ... appended if that name exists), and writes the file_version event.
    explicit tensorboard_writer(const std::filesystem::path& dir) {
        std::error_code ec;
        std::filesystem::create_directories(dir, ec);
        if (ec) throw io_error("tensorboard_writer: cannot create folder '" + dir.string() + "': " + ec.message());
        char host[256] = "localhost";
        if (::gethostname(host, sizeof host - 1) != 0) std::strcpy(host, "localhost");
        host[sizeof host - 1] = '\0';
        const double t = tb_detail::now_seconds();
        char stamp[32];
        std::snprintf(stamp, sizeof stamp, "%010lld", static_cast<long long>(t));
        const std::string base = (dir / ("events.out.tfevents." + std::string(stamp) + "." + host)).string();
        for (int n = 0; fd_ < 0; ++n) {  // O_EXCL: two writers never share a file
            path_ = n == 0 ? base : base + "." + std::to_string(n);
            fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
            if (fd_ < 0 && (errno != EEXIST || n >= 1000)) throw io_error("tensorboard_writer: cannot create '" + path_ + "': " + std::strerror(errno));
        }
        std::string e;
        tb_detail::put_double(e, 1, t);
        tb_detail::put_bytes(e, 3, "brain.Event:2");
        put_record(e);
    }
    ~tensorboard_writer() {
        if (fd_ >= 0) ::close(fd_);
    }
    tensorboard_writer(const tensorboard_writer&) = delete;
    tensorboard_writer& operator=(const tensorboard_writer&) = delete;

    /// One event at `step` with a scalar per (tag, value); values are stored as float32 (NaN and
    /// infinities included, TensorBoard shows them). Nothing is written for an empty list.
    void add_scalars(std::int64_t step, const std::vector<std::pair<std::string, double>>& values) {
        if (values.empty()) return;
        const std::string s = encode_scalar_summary(values);
        put_record(tb_detail::event(tb_detail::now_seconds(), step, &s));
    }
    void add_scalar(std::int64_t step, const std::string& tag, double value) { add_scalars(step, {{tag, value}}); }
    /// One event at `step` with a text value (TensorBoard's Text tab renders it as Markdown).
    void add_text(std::int64_t step, std::string_view tag, std::string_view text) {
        const std::string s = encode_text_summary(tag, text);
        put_record(tb_detail::event(tb_detail::now_seconds(), step, &s));
    }
    /// An Event {step, session_log = 7 {status = 1: START}}: on reading it TensorBoard drops the
    /// events of earlier files with step >= `step` (purge_orphaned_data). Write it when a resumed
    /// run starts again at `step`, so the steps redone after the last checkpoint are not doubled.
    void add_session_start(std::int64_t step) {
        std::string log;
        tb_detail::put_int(log, 1, 1);
        std::string e = tb_detail::event(tb_detail::now_seconds(), step, nullptr);
        tb_detail::put_bytes(e, 7, log);
        put_record(e);
    }
    /// fsync the file (survives power loss, not only process death); call at checkpoints.
    void sync() {
        if (::fsync(fd_) != 0) throw io_error("tensorboard_writer: fsync of '" + path_ + "' failed: " + std::strerror(errno));
    }
    const std::string& path() const { return path_; }

private:
    /// One write(2) per record: after a kill the file ends with whole records or one cut-off record.
    void put_record(std::string_view payload) {
        const std::string r = tfrecord_frame(payload);
        std::size_t done = 0;
        while (done < r.size()) {
            const ssize_t n = ::write(fd_, r.data() + done, r.size() - done);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) throw io_error("tensorboard_writer: writing to '" + path_ + "' failed (disk full?): " + std::strerror(errno));
            done += static_cast<std::size_t>(n);
        }
    }
    std::string path_;
    int fd_ = -1;
};

/// The payloads of every TFRecord in `path`, in order, both CRCs checked. A cut-off last record
/// (a kill while writing) is ignored; a CRC mismatch elsewhere throws format_error naming the
/// file and the record's byte offset.
inline std::vector<std::string> read_tfrecords(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw io_error("read_tfrecords: cannot open '" + path + "'");
    const std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto le = [&](std::size_t at, int bytes) {
        std::uint64_t v = 0;
        for (int i = 0; i < bytes; ++i) v |= static_cast<std::uint64_t>(static_cast<unsigned char>(all[at + static_cast<std::size_t>(i)])) << (8 * i);
        return v;
    };
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (all.size() - pos >= 12) {
        const std::uint64_t len = le(pos, 8);
        const auto where = [&] { return "read_tfrecords: " + path + ": record at byte " + std::to_string(pos) + ": "; };
        if (le(pos + 8, 4) != masked_crc32c(std::string_view(all.data() + pos, 8))) throw format_error(where() + "length CRC mismatch");
        if (len > all.size() - pos - 12 || all.size() - pos - 12 - len < 4) break;  // cut-off tail
        const std::string_view payload(all.data() + pos + 12, len);
        if (le(pos + 12 + len, 4) != masked_crc32c(payload)) throw format_error(where() + "data CRC mismatch");
        out.emplace_back(payload);
        pos += 16 + len;
    }
    return out;
}

}  // namespace hoprag::train
