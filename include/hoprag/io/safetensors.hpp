// safetensors reader and writer. A safetensors file is: u64 little-endian header length N, N bytes
// of JSON (`{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
// "__metadata__": {"key": "value"}}`, padded with spaces), then the data region, where every
// tensor's [begin, end) is relative to the region's start and the tensors tile it exactly.
// `safetensors_file` memory-maps a file and validates every header field (header length, JSON,
// dtype, shape, offsets, overlaps, gaps, byte size == numel * dtype size) — a violation throws
// `format_error` naming the file and the tensor — and hands out zero-copy `safetensors_tensor`
// views with a converting `to_f32`. `write_safetensors` writes tensors and metadata durably with
// the header padded to a multiple of 8 bytes. Sharded checkpoints: see safetensors_index.hpp;
// zero-copy xtensor views of tensors: see xt_views.hpp.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "hoprag/core/dtype.hpp"
#include "hoprag/core/error.hpp"
#include "hoprag/core/shape.hpp"
#include "hoprag/io/durable_file.hpp"
#include "hoprag/io/mapped_file.hpp"

namespace hoprag::io {

/// Element types of the safetensors format (the header's "dtype" strings).
enum class st_dtype : std::uint8_t { f64, f32, f16, bf16, i64, i32, i16, i8, u64, u32, u16, u8, boolean, f8_e4m3, f8_e5m2 };

namespace detail {
struct st_dtype_entry {
    st_dtype type;
    std::string_view name;
    std::size_t size;
};
inline constexpr st_dtype_entry st_dtype_table[] = {
    {st_dtype::f64, "F64", 8},  {st_dtype::f32, "F32", 4},  {st_dtype::f16, "F16", 2},     {st_dtype::bf16, "BF16", 2},
    {st_dtype::i64, "I64", 8},  {st_dtype::i32, "I32", 4},  {st_dtype::i16, "I16", 2},     {st_dtype::i8, "I8", 1},
    {st_dtype::u64, "U64", 8},  {st_dtype::u32, "U32", 4},  {st_dtype::u16, "U16", 2},     {st_dtype::u8, "U8", 1},
    {st_dtype::boolean, "BOOL", 1}, {st_dtype::f8_e4m3, "F8_E4M3", 1}, {st_dtype::f8_e5m2, "F8_E5M2", 1},
};
}  // namespace detail

/// Header name of `t` ("F32", "BF16", ...).
constexpr std::string_view st_dtype_name(st_dtype t) {
    for (const auto& e : detail::st_dtype_table)
        if (e.type == t) return e.name;
    return "?";
}
/// Bytes per element of `t`.
constexpr std::size_t st_dtype_size(st_dtype t) {
    for (const auto& e : detail::st_dtype_table)
        if (e.type == t) return e.size;
    return 0;
}
/// The dtype named `name` in a header, or nullopt if unknown.
constexpr std::optional<st_dtype> st_dtype_from_name(std::string_view name) {
    for (const auto& e : detail::st_dtype_table)
        if (e.name == name) return e.type;
    return std::nullopt;
}
/// safetensors dtype of a hoprag dtype (f32, bf16, f16, i32, i64, u8 all exist).
constexpr st_dtype to_st_dtype(dtype t) {
    switch (t) {
        case dtype::f32: return st_dtype::f32;
        case dtype::bf16: return st_dtype::bf16;
        case dtype::f16: return st_dtype::f16;
        case dtype::i32: return st_dtype::i32;
        case dtype::i64: return st_dtype::i64;
        case dtype::u8: return st_dtype::u8;
    }
    return st_dtype::u8;
}

/// A zero-copy view of one tensor in a mapped safetensors file. `bytes` is little-endian, row-major,
/// possibly unaligned; it stays valid while the owning `safetensors_file` lives.
struct safetensors_tensor {
    std::string name;                    // header key
    st_dtype type = st_dtype::f32;       // element type
    shape dims;                          // extents, rank <= max_rank
    std::span<const std::byte> bytes;    // [numel * st_dtype_size(type)] raw data

    std::int64_t numel() const { return dims.numel(); }

    /// Converts every element to float (ints and F64 by static_cast, BOOL to 0/1, F8 exactly).
    /// Precondition: out.size() == numel(); throws shape_error otherwise.
    void to_f32(std::span<float> out) const;
    /// Same, into a new vector.
    std::vector<float> to_f32() const {
        std::vector<float> v(static_cast<std::size_t>(numel()));
        to_f32(v);
        return v;
    }
};

namespace detail {

template <class T>
inline T load_le(const std::byte* p) {
    T v;
    std::memcpy(&v, p, sizeof v);  // hoprag targets little-endian hosts
    return v;
}

/// FP8 E4M3 (fn: no infinities, 0x7f/0xff NaN) and E5M2 (IEEE-like) to float, exactly.
inline float f8_to_float(std::uint8_t b, bool e4m3) {
    const int mbits = e4m3 ? 3 : 2, ebits = e4m3 ? 4 : 5, bias = e4m3 ? 7 : 15;
    const bool neg = b & 0x80;
    const int e = (b >> mbits) & ((1 << ebits) - 1), m = b & ((1 << mbits) - 1);
    float v;
    if (e4m3 && e == 15 && m == 7) v = std::numeric_limits<float>::quiet_NaN();
    else if (!e4m3 && e == 31) v = m ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
    else if (e == 0) v = std::ldexp(static_cast<float>(m), 1 - bias - mbits);
    else v = std::ldexp(static_cast<float>((1 << mbits) | m), e - bias - mbits);
    return neg ? -v : v;
}

}  // namespace detail

inline void safetensors_tensor::to_f32(std::span<float> out) const {
    const auto n = static_cast<std::size_t>(numel());
    if (out.size() != n)
        throw shape_error("safetensors tensor '" + name + "': to_f32 output holds " + std::to_string(out.size()) +
                          " floats, tensor has " + std::to_string(n));
    const std::byte* p = bytes.data();
    const std::size_t es = st_dtype_size(type);
    for (std::size_t i = 0; i < n; ++i, p += es) {
        float v = 0.0f;
        switch (type) {
            case st_dtype::f64: v = static_cast<float>(detail::load_le<double>(p)); break;
            case st_dtype::f32: v = detail::load_le<float>(p); break;
            case st_dtype::f16: v = f16::from_bits(detail::load_le<std::uint16_t>(p)).to_float(); break;
            case st_dtype::bf16: v = bf16::from_bits(detail::load_le<std::uint16_t>(p)).to_float(); break;
            case st_dtype::i64: v = static_cast<float>(detail::load_le<std::int64_t>(p)); break;
            case st_dtype::i32: v = static_cast<float>(detail::load_le<std::int32_t>(p)); break;
            case st_dtype::i16: v = static_cast<float>(detail::load_le<std::int16_t>(p)); break;
            case st_dtype::i8: v = static_cast<float>(detail::load_le<std::int8_t>(p)); break;
            case st_dtype::u64: v = static_cast<float>(detail::load_le<std::uint64_t>(p)); break;
            case st_dtype::u32: v = static_cast<float>(detail::load_le<std::uint32_t>(p)); break;
            case st_dtype::u16: v = static_cast<float>(detail::load_le<std::uint16_t>(p)); break;
            case st_dtype::u8: v = static_cast<float>(detail::load_le<std::uint8_t>(p)); break;
            case st_dtype::boolean: v = detail::load_le<std::uint8_t>(p) != 0 ? 1.0f : 0.0f; break;
            case st_dtype::f8_e4m3: v = detail::f8_to_float(detail::load_le<std::uint8_t>(p), true); break;
            case st_dtype::f8_e5m2: v = detail::f8_to_float(detail::load_le<std::uint8_t>(p), false); break;
        }
        out[i] = v;
    }
}

/// Parsed and validated contents of a safetensors byte image.
struct safetensors_header {
    std::vector<safetensors_tensor> tensors;        // in header order (keys sorted by the JSON parser)
    std::map<std::string, std::string> metadata;    // "__metadata__", empty if absent
    std::uint64_t header_size = 0;                  // N, the JSON length
};

/// Largest JSON header accepted (the reference implementation's limit).
inline constexpr std::uint64_t safetensors_max_header = 100'000'000;

/// Parses and validates `file` (a whole safetensors image); `origin` names it in error messages.
/// Tensor views point into `file`. Throws format_error on any violation of the format.
inline safetensors_header parse_safetensors(std::span<const std::byte> file, const std::string& origin) {
    const auto fail = [&](const std::string& what) { return format_error("safetensors '" + origin + "': " + what); };
    if (file.size() < 8) throw fail("file is " + std::to_string(file.size()) + " bytes, shorter than the 8-byte header length");
    const auto n = detail::load_le<std::uint64_t>(file.data());
    if (n > file.size() - 8)
        throw fail("header length " + std::to_string(n) + " exceeds the " + std::to_string(file.size() - 8) + " bytes after it");
    if (n > safetensors_max_header) throw fail("header length " + std::to_string(n) + " exceeds the 100 MB limit");
    if (n < 2) throw fail("header length " + std::to_string(n) + " is too short for a JSON object");
    const auto* text = reinterpret_cast<const char*>(file.data() + 8);
    if (text[0] != '{') throw fail("header does not start with '{'");
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text, text + n);
    } catch (const nlohmann::json::exception& e) {
        throw fail(std::string("header is not valid JSON: ") + e.what());
    }
    if (!j.is_object()) throw fail("header is not a JSON object");

    safetensors_header h;
    h.header_size = n;
    const std::span<const std::byte> data = file.subspan(8 + n);
    struct range {
        std::uint64_t begin, end;
        std::size_t index;
    };
    std::vector<range> ranges;
    for (const auto& item : j.items()) {
        const std::string& key = item.key();  // not a structured binding: clang < 16 cannot capture those
        const auto& value = item.value();
        if (key == "__metadata__") {
            if (!value.is_object()) throw fail("__metadata__ is not an object");
            for (const auto& [mk, mv] : value.items()) {
                if (!mv.is_string()) throw fail("__metadata__ value of '" + mk + "' is not a string");
                h.metadata.emplace(mk, mv.get<std::string>());
            }
            continue;
        }
        const auto tfail = [&](const std::string& what) { return fail("tensor '" + key + "': " + what); };
        if (!value.is_object()) throw tfail("entry is not an object");
        const auto dt = value.find("dtype");
        if (dt == value.end() || !dt->is_string()) throw tfail("missing string field 'dtype'");
        const auto type = st_dtype_from_name(dt->get<std::string>());
        if (!type) throw tfail("unknown dtype '" + dt->get<std::string>() + "'");
        const auto sh = value.find("shape");
        if (sh == value.end() || !sh->is_array()) throw tfail("missing array field 'shape'");
        if (sh->size() > static_cast<std::size_t>(max_rank))
            throw tfail("rank " + std::to_string(sh->size()) + " exceeds hoprag's max_rank " + std::to_string(max_rank));
        safetensors_tensor t;
        t.name = key;
        t.type = *type;
        std::uint64_t numel = 1;
        bool overflow = false;
        for (const auto& d : *sh) {
            if (!d.is_number_unsigned()) throw tfail("shape " + sh->dump() + " holds a value that is not a non-negative integer");
            const auto x = d.get<std::uint64_t>();
            if (x > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) throw tfail("shape extent " + std::to_string(x) + " too large");
            if (x != 0 && numel > std::numeric_limits<std::uint64_t>::max() / x) overflow = true;
            else numel *= x;
            t.dims.dims[static_cast<std::size_t>(t.dims.rank++)] = static_cast<std::int64_t>(x);
        }
        const auto off = value.find("data_offsets");
        if (off == value.end() || !off->is_array() || off->size() != 2 || !(*off)[0].is_number_unsigned() ||
            !(*off)[1].is_number_unsigned())
            throw tfail("'data_offsets' is not an array of two non-negative integers");
        const auto begin = (*off)[0].get<std::uint64_t>(), end = (*off)[1].get<std::uint64_t>();
        if (begin > end) throw tfail("data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) + "] has begin > end");
        if (end > data.size())
            throw tfail("data_offsets end " + std::to_string(end) + " is past the data region of " + std::to_string(data.size()) + " bytes");
        const std::uint64_t es = st_dtype_size(*type);
        if (overflow || numel > std::numeric_limits<std::uint64_t>::max() / es || numel * es != end - begin)
            throw tfail("shape " + t.dims.str() + " of " + std::string(st_dtype_name(*type)) + " needs " +
                        (overflow ? std::string("an overflowing number of") : std::to_string(numel * es)) + " bytes but data_offsets span " +
                        std::to_string(end - begin));
        t.bytes = data.subspan(begin, end - begin);
        ranges.push_back({begin, end, h.tensors.size()});
        h.tensors.push_back(std::move(t));
    }
    // the tensors must tile the data region exactly: no overlap, no gap, nothing left over
    std::sort(ranges.begin(), ranges.end(), [](const range& a, const range& b) {
        return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
    });
    std::uint64_t at = 0;
    for (const auto& r : ranges) {
        const auto& name = h.tensors[r.index].name;
        if (r.begin < at)
            throw fail("tensor '" + name + "': data_offsets [" + std::to_string(r.begin) + ", " + std::to_string(r.end) +
                       "] overlap the previous tensor, which ends at " + std::to_string(at));
        if (r.begin > at)
            throw fail("tensor '" + name + "': data_offsets begin " + std::to_string(r.begin) + " leaves a gap after offset " +
                       std::to_string(at));
        at = r.end;
    }
    if (at != data.size())
        throw fail("tensors cover " + std::to_string(at) + " bytes but the data region holds " + std::to_string(data.size()));
    return h;
}

/// A memory-mapped, validated safetensors file. Tensor views stay valid while it lives.
class safetensors_file {
public:
    /// Maps and validates `path`. Throws io_error (cannot read) or format_error (bad contents).
    explicit safetensors_file(const std::filesystem::path& path) : file_(path) {
        header_ = parse_safetensors(file_.bytes(), path.string());
        for (std::size_t i = 0; i < header_.tensors.size(); ++i) by_name_.emplace(header_.tensors[i].name, i);
    }

    /// All tensors, in header order.
    const std::vector<safetensors_tensor>& tensors() const { return header_.tensors; }
    /// The `__metadata__` map.
    const std::map<std::string, std::string>& metadata() const { return header_.metadata; }
    /// The tensor called `name`, or nullptr.
    const safetensors_tensor* find(std::string_view name) const {
        const auto it = by_name_.find(std::string(name));
        return it == by_name_.end() ? nullptr : &header_.tensors[it->second];
    }
    /// The tensor called `name`; throws format_error naming the file if absent.
    const safetensors_tensor& at(std::string_view name) const {
        if (const auto* t = find(name)) return *t;
        throw format_error("safetensors '" + file_.path().string() + "': no tensor named '" + std::string(name) + "'");
    }
    const std::filesystem::path& path() const { return file_.path(); }
    /// Total file size in bytes.
    std::size_t file_size() const { return file_.size(); }

private:
    mapped_file file_;
    safetensors_header header_;
    std::map<std::string, std::size_t> by_name_;
};

/// One tensor to write: raw little-endian row-major bytes of `dims.numel()` elements of `type`.
struct safetensors_entry {
    std::string name;
    st_dtype type = st_dtype::f32;
    shape dims;
    std::span<const std::byte> data;  // [numel * st_dtype_size(type)]
};

/// Writes `tensors` (in the given order) and `metadata` to `path` durably. The JSON header is padded
/// with spaces to a multiple of 8 bytes, so the data region starts 8-byte aligned. Throws
/// shape_error if an entry's byte size disagrees with its shape, format_error for an empty,
/// duplicate or reserved name, io_error if writing fails (an existing `path` is then untouched).
inline void write_safetensors(const std::filesystem::path& path, std::span<const safetensors_entry> tensors,
                              const std::map<std::string, std::string>& metadata = {}) {
    nlohmann::ordered_json j = nlohmann::ordered_json::object();
    if (!metadata.empty()) {
        nlohmann::ordered_json m = nlohmann::ordered_json::object();
        for (const auto& [k, v] : metadata) m[k] = v;
        j["__metadata__"] = std::move(m);
    }
    std::uint64_t offset = 0;
    for (const auto& t : tensors) {
        if (t.name.empty() || t.name == "__metadata__")
            throw format_error("write_safetensors '" + path.string() + "': invalid tensor name '" + t.name + "'");
        if (j.contains(t.name)) throw format_error("write_safetensors '" + path.string() + "': duplicate tensor name '" + t.name + "'");
        const std::uint64_t want = static_cast<std::uint64_t>(t.dims.numel()) * st_dtype_size(t.type);
        if (t.data.size() != want)
            throw shape_error("write_safetensors '" + path.string() + "': tensor '" + t.name + "' of shape " + t.dims.str() + " " +
                              std::string(st_dtype_name(t.type)) + " needs " + std::to_string(want) + " bytes, got " +
                              std::to_string(t.data.size()));
        nlohmann::ordered_json shape_json = nlohmann::ordered_json::array();
        for (int i = 0; i < t.dims.rank; ++i) shape_json.push_back(t.dims[i]);
        j[t.name] = {{"dtype", std::string(st_dtype_name(t.type))}, {"shape", shape_json}, {"data_offsets", {offset, offset + want}}};
        offset += want;
    }
    std::string header;
    try {
        header = j.dump();
    } catch (const nlohmann::json::exception& e) {  // e.g. a name that is not valid UTF-8
        throw format_error("write_safetensors '" + path.string() + "': cannot encode the header: " + e.what());
    }
    header.append((8 - header.size() % 8) % 8, ' ');
    std::byte len[8];
    const std::uint64_t n = header.size();
    std::memcpy(len, &n, 8);
    durable_writer w(path);
    w.write(std::span<const std::byte>(len, 8));
    w.write(header);
    for (const auto& t : tensors) w.write(t.data);
    w.commit();
}

}  // namespace hoprag::io
