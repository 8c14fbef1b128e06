// GGUF (llama.cpp model files, versions 2 and 3) reader. Layout, all little-endian:
//   u32 magic "GGUF", u32 version, u64 tensor_count, u64 kv_count,
//   kv_count x { string key, u32 value_type, value },        string = u64 length + UTF-8 bytes,
//   tensor_count x { string name, u32 n_dims, u64 ne[n_dims], u32 ggml_type, u64 offset },
//   padding to `general.alignment` (default 32), then the data region; tensor offsets are relative
//   to it and aligned. Arrays are { u32 element_type, u64 n, n values } and may nest.
// `gguf_file` memory-maps a file; `parse_gguf` validates every count, length, type and offset
// against the bytes actually present (a violation throws `format_error` naming the file and the key
// or tensor; nothing is read out of bounds), keeps strings as views into the mapping, and
// `dequantize` turns a tensor of a supported ggml type into float32 exactly as ggml does.
// Zero-copy xtensor views of unquantised tensors: see xt_views.hpp.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "hoprag/core/dtype.hpp"
#include "hoprag/core/error.hpp"
#include "hoprag/core/shape.hpp"
#include "hoprag/io/gguf_quants.hpp"
#include "hoprag/io/mapped_file.hpp"

namespace hoprag::io {

/// GGUF metadata value types.
enum class gguf_type : std::uint32_t {
    u8 = 0, i8 = 1, u16 = 2, i16 = 3, u32 = 4, i32 = 5, f32 = 6, boolean = 7, string = 8, array = 9, u64 = 10, i64 = 11, f64 = 12,
};

/// Name of a metadata value type ("u32", "string", ...).
constexpr std::string_view gguf_type_name(gguf_type t) {
    constexpr std::string_view names[] = {"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64"};
    const auto i = static_cast<std::uint32_t>(t);
    return i < 13 ? names[i] : "?";
}

struct gguf_value;

/// A metadata array of `size()` elements of `type`. Numeric and bool elements stay as raw bytes in
/// the mapping (`raw`, so a huge array costs no memory); string and nested-array elements are
/// parsed into `items`. `at(i)` gives any element as a value; `ints()`, `numbers()` and `strings()`
/// convert the whole array.
struct gguf_array {
    gguf_type type = gguf_type::u8;
    std::uint64_t count = 0;                 // number of elements
    std::span<const std::byte> raw;          // [count * element size] for numeric and bool elements
    std::vector<gguf_value> items;           // [count] for string and array elements

    std::size_t size() const { return static_cast<std::size_t>(count); }
    /// Element i (precondition: i < size()).
    gguf_value at(std::size_t i) const;
    /// Every element as int64; throws format_error if the elements are not integers (or a u64 is
    /// above INT64_MAX).
    std::vector<std::int64_t> ints() const;
    /// Every element as double (floats or integers); throws format_error otherwise.
    std::vector<double> numbers() const;
    /// Every element as a string view; throws format_error if the elements are not strings.
    std::vector<std::string_view> strings() const;
};

/// One metadata value. Strings are views into the mapped file.
struct gguf_value {
    std::variant<std::uint8_t, std::int8_t, std::uint16_t, std::int16_t, std::uint32_t, std::int32_t, float, bool,
                 std::string_view, gguf_array, std::uint64_t, std::int64_t, double>
        v;  // alternative index == gguf_type

    gguf_type type() const { return static_cast<gguf_type>(v.index()); }
    bool is_integer() const {
        const auto t = type();
        return t != gguf_type::f32 && t != gguf_type::f64 && t != gguf_type::boolean && t != gguf_type::string && t != gguf_type::array;
    }
    /// Any integer type as int64 (u64 above INT64_MAX fails); nullopt if not an integer.
    std::optional<std::int64_t> as_int() const {
        return std::visit(
            [](const auto& x) -> std::optional<std::int64_t> {
                using T = std::decay_t<decltype(x)>;
                if constexpr (std::is_same_v<T, bool> || std::is_floating_point_v<T> || !std::is_integral_v<T>) {
                    return std::nullopt;
                } else if constexpr (std::is_same_v<T, std::uint64_t>) {
                    if (x > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
                    return static_cast<std::int64_t>(x);
                } else {
                    return static_cast<std::int64_t>(x);
                }
            },
            v);
    }
    /// f32, f64 or any integer as double; nullopt otherwise.
    std::optional<double> as_double() const {
        if (const auto* f = std::get_if<float>(&v)) return *f;
        if (const auto* d = std::get_if<double>(&v)) return *d;
        if (const auto i = as_int()) return static_cast<double>(*i);
        return std::nullopt;
    }
    const std::string_view* as_string() const { return std::get_if<std::string_view>(&v); }
    const gguf_array* as_array() const { return std::get_if<gguf_array>(&v); }
    const bool* as_bool() const { return std::get_if<bool>(&v); }
};

/// Bytes per element of a fixed-size metadata type (0 for string and array).
constexpr std::size_t gguf_scalar_size(gguf_type t) {
    switch (t) {
        case gguf_type::u8: case gguf_type::i8: case gguf_type::boolean: return 1;
        case gguf_type::u16: case gguf_type::i16: return 2;
        case gguf_type::u32: case gguf_type::i32: case gguf_type::f32: return 4;
        case gguf_type::u64: case gguf_type::i64: case gguf_type::f64: return 8;
        default: return 0;
    }
}

namespace detail {
template <class T>
inline T gguf_load(const std::byte* p) {
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
}  // namespace detail

inline gguf_value gguf_array::at(std::size_t i) const {
    if (gguf_scalar_size(type) == 0) return items[i];
    const std::byte* p = raw.data() + i * gguf_scalar_size(type);
    gguf_value out;
    switch (type) {
        case gguf_type::u8: out.v = detail::gguf_load<std::uint8_t>(p); break;
        case gguf_type::i8: out.v = detail::gguf_load<std::int8_t>(p); break;
        case gguf_type::u16: out.v = detail::gguf_load<std::uint16_t>(p); break;
        case gguf_type::i16: out.v = detail::gguf_load<std::int16_t>(p); break;
        case gguf_type::u32: out.v = detail::gguf_load<std::uint32_t>(p); break;
        case gguf_type::i32: out.v = detail::gguf_load<std::int32_t>(p); break;
        case gguf_type::f32: out.v = detail::gguf_load<float>(p); break;
        case gguf_type::boolean: out.v = detail::gguf_load<std::uint8_t>(p) != 0; break;
        case gguf_type::u64: out.v = detail::gguf_load<std::uint64_t>(p); break;
        case gguf_type::i64: out.v = detail::gguf_load<std::int64_t>(p); break;
        case gguf_type::f64: out.v = detail::gguf_load<double>(p); break;
        default: break;
    }
    return out;
}

inline std::vector<std::int64_t> gguf_array::ints() const {
    std::vector<std::int64_t> out(size());
    for (std::size_t i = 0; i < size(); ++i) {
        const auto x = at(i).as_int();
        if (!x) throw format_error("gguf array of " + std::string(gguf_type_name(type)) + ": element " + std::to_string(i) + " is not an int64");
        out[i] = *x;
    }
    return out;
}

inline std::vector<double> gguf_array::numbers() const {
    std::vector<double> out(size());
    for (std::size_t i = 0; i < size(); ++i) {
        const auto x = at(i).as_double();
        if (!x) throw format_error("gguf array of " + std::string(gguf_type_name(type)) + " is not numeric");
        out[i] = *x;
    }
    return out;
}

inline std::vector<std::string_view> gguf_array::strings() const {
    if (type != gguf_type::string) throw format_error("gguf array of " + std::string(gguf_type_name(type)) + " is not an array of strings");
    std::vector<std::string_view> out(size());
    for (std::size_t i = 0; i < size(); ++i) out[i] = *items[i].as_string();
    return out;
}

/// One tensor: name, type, extents (ne[0] fastest, as ggml stores them) and its bytes in the mapping.
struct gguf_tensor {
    std::string_view name;
    ggml_type type = ggml_type::f32;
    std::uint32_t n_dims = 0;                 // 1..4
    std::uint64_t ne[4] = {1, 1, 1, 1};       // extents, ne[0] fastest
    std::uint64_t offset = 0;                 // from the start of the data region
    std::span<const std::byte> bytes;         // [numel / block_size * type_size]

    std::uint64_t numel() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
    /// Row-major hoprag shape (ne reversed): a [rows, cols] matrix has ne = {cols, rows}.
    shape dims() const {
        shape s;
        for (std::uint32_t i = 0; i < n_dims; ++i) s.dims[i] = static_cast<std::int64_t>(ne[n_dims - 1 - i]);
        s.rank = static_cast<int>(n_dims);
        return s;
    }
};

/// Parsed contents of a GGUF image.
struct gguf_header {
    std::uint32_t version = 0;                          // 2 or 3
    std::map<std::string, gguf_value, std::less<>> metadata;
    std::vector<std::string_view> key_order;            // keys in file order
    std::vector<gguf_tensor> tensors;                   // in file order
    std::uint32_t alignment = 32;                       // general.alignment or 32
    std::uint64_t data_offset = 0;                      // start of the data region in the file
};

/// Deepest array nesting accepted (real files use 1; the limit bounds recursion on hostile input).
inline constexpr int gguf_max_array_depth = 8;

namespace detail {

class gguf_cursor {
public:
    gguf_cursor(std::span<const std::byte> b, const std::string& origin) : b_(b), origin_(origin) {}

    format_error fail(const std::string& what) const {
        return format_error("gguf '" + origin_ + "': " + what + " (at byte " + std::to_string(pos_) + " of " + std::to_string(b_.size()) + ")");
    }
    std::size_t pos() const { return pos_; }
    std::size_t left() const { return b_.size() - pos_; }

    template <class T>
    T read(const char* what) {
        if (left() < sizeof(T)) throw fail(std::string("file ends inside ") + what);
        T v;
        std::memcpy(&v, b_.data() + pos_, sizeof v);
        pos_ += sizeof v;
        return v;
    }
    std::string_view read_string(const char* what) {
        const auto n = read<std::uint64_t>(what);
        if (n > left()) throw fail(std::string(what) + " has length " + std::to_string(n) + " but only " + std::to_string(left()) + " bytes remain");
        std::string_view s(reinterpret_cast<const char*>(b_.data() + pos_), static_cast<std::size_t>(n));
        pos_ += static_cast<std::size_t>(n);
        return s;
    }

    gguf_value read_value(std::uint32_t type, const std::string& key, int depth) {
        gguf_value out;
        switch (static_cast<gguf_type>(type)) {
            case gguf_type::u8: out.v = read<std::uint8_t>("a u8 value"); break;
            case gguf_type::i8: out.v = read<std::int8_t>("an i8 value"); break;
            case gguf_type::u16: out.v = read<std::uint16_t>("a u16 value"); break;
            case gguf_type::i16: out.v = read<std::int16_t>("an i16 value"); break;
            case gguf_type::u32: out.v = read<std::uint32_t>("a u32 value"); break;
            case gguf_type::i32: out.v = read<std::int32_t>("an i32 value"); break;
            case gguf_type::f32: out.v = read<float>("an f32 value"); break;
            case gguf_type::u64: out.v = read<std::uint64_t>("a u64 value"); break;
            case gguf_type::i64: out.v = read<std::int64_t>("an i64 value"); break;
            case gguf_type::f64: out.v = read<double>("an f64 value"); break;
            case gguf_type::boolean: {
                const auto b = read<std::uint8_t>("a bool value");
                if (b > 1) throw fail("key '" + key + "': bool value " + std::to_string(b) + " is neither 0 nor 1");
                out.v = b != 0;
                break;
            }
            case gguf_type::string: out.v = read_string("a string value"); break;
            case gguf_type::array: {
                if (depth >= gguf_max_array_depth) throw fail("key '" + key + "': arrays nested deeper than " + std::to_string(gguf_max_array_depth));
                const auto et = read<std::uint32_t>("an array element type");
                if (et > 12) throw fail("key '" + key + "': unknown array element type " + std::to_string(et));
                const auto n = read<std::uint64_t>("an array length");
                // every element takes at least this many bytes, so n is bounded by what is left
                const std::size_t min_size = et == 8 || et == 9 ? 8 + (et == 9 ? 4 : 0)
                                           : (et == 10 || et == 11 || et == 12) ? 8
                                           : (et == 4 || et == 5 || et == 6) ? 4
                                           : (et == 2 || et == 3) ? 2 : 1;
                if (n > left() / min_size)
                    throw fail("key '" + key + "': array of " + std::to_string(n) + " " + std::string(gguf_type_name(static_cast<gguf_type>(et))) +
                               " cannot fit in the " + std::to_string(left()) + " bytes left");
                gguf_array a;
                a.type = static_cast<gguf_type>(et);
                a.count = n;
                if (const std::size_t es = gguf_scalar_size(a.type); es != 0) {
                    a.raw = b_.subspan(pos_, static_cast<std::size_t>(n) * es);  // n * es <= left(), checked above
                    if (a.type == gguf_type::boolean)
                        for (std::size_t i = 0; i < a.raw.size(); ++i)
                            if (static_cast<std::uint8_t>(a.raw[i]) > 1) throw fail("key '" + key + "': bool array element " + std::to_string(i) + " is neither 0 nor 1");
                    pos_ += a.raw.size();
                } else {
                    a.items.reserve(static_cast<std::size_t>(n));
                    for (std::uint64_t i = 0; i < n; ++i) a.items.push_back(read_value(et, key, depth + 1));
                }
                out.v = std::move(a);
                break;
            }
            default: throw fail("key '" + key + "': unknown value type " + std::to_string(type));
        }
        return out;
    }

private:
    std::span<const std::byte> b_;
    const std::string& origin_;
    std::size_t pos_ = 0;
};

}  // namespace detail

/// Parses and validates a whole GGUF image; `origin` names it in errors. Views point into `file`.
inline gguf_header parse_gguf(std::span<const std::byte> file, const std::string& origin) {
    detail::gguf_cursor c(file, origin);
    gguf_header h;
    const auto magic = c.read<std::uint32_t>("the magic");
    if (magic != 0x46554747u) throw c.fail("bad magic: not a GGUF file (expected the bytes 'GGUF')");
    h.version = c.read<std::uint32_t>("the version");
    if (h.version != 2 && h.version != 3)
        throw c.fail("unsupported GGUF version " + std::to_string(h.version) + " (hoprag reads versions 2 and 3)");
    const auto n_tensors = c.read<std::uint64_t>("the tensor count");
    const auto n_kv = c.read<std::uint64_t>("the metadata count");
    // a key-value pair needs >= 12 bytes and a tensor info >= 24: reject counts the file cannot hold
    if (n_kv > c.left() / 12) throw c.fail("metadata count " + std::to_string(n_kv) + " cannot fit in the file");
    for (std::uint64_t i = 0; i < n_kv; ++i) {
        const auto key = c.read_string("a metadata key");
        const std::string k(key);
        const auto type = c.read<std::uint32_t>("a value type");
        auto value = c.read_value(type, k, 0);
        if (!h.metadata.emplace(k, std::move(value)).second) throw c.fail("duplicate metadata key '" + k + "'");
        h.key_order.push_back(key);
    }
    if (const auto it = h.metadata.find("general.alignment"); it != h.metadata.end()) {
        const auto* a = std::get_if<std::uint32_t>(&it->second.v);
        if (a == nullptr) throw c.fail("general.alignment is a " + std::string(gguf_type_name(it->second.type())) + ", expected u32");
        if (*a == 0 || !std::has_single_bit(*a)) throw c.fail("general.alignment " + std::to_string(*a) + " is not a power of two");
        h.alignment = *a;
    }
    if (n_tensors > c.left() / 24) throw c.fail("tensor count " + std::to_string(n_tensors) + " cannot fit in the file");
    h.tensors.reserve(static_cast<std::size_t>(n_tensors));
    std::vector<std::uint64_t> sizes;  // bytes of each tensor
    sizes.reserve(static_cast<std::size_t>(n_tensors));
    for (std::uint64_t i = 0; i < n_tensors; ++i) {
        gguf_tensor t;
        t.name = c.read_string("a tensor name");
        const std::string name(t.name);
        t.n_dims = c.read<std::uint32_t>("a tensor's dimension count");
        if (t.n_dims < 1 || t.n_dims > 4) throw c.fail("tensor '" + name + "': " + std::to_string(t.n_dims) + " dimensions (expected 1 to 4)");
        std::uint64_t numel = 1;
        for (std::uint32_t d = 0; d < t.n_dims; ++d) {
            t.ne[d] = c.read<std::uint64_t>("a tensor extent");
            if (t.ne[d] > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) ||
                (t.ne[d] != 0 && numel > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) / t.ne[d]))
                throw c.fail("tensor '" + name + "': extents overflow");
            numel *= t.ne[d];
        }
        const auto type_id = c.read<std::uint32_t>("a tensor type");
        const auto traits = ggml_traits(type_id);
        if (!traits) throw c.fail("tensor '" + name + "': unknown ggml type " + std::to_string(type_id));
        t.type = traits->type;
        if (t.ne[0] % traits->block_size != 0)
            throw c.fail("tensor '" + name + "': ne[0] = " + std::to_string(t.ne[0]) + " is not a multiple of the " +
                         std::string(traits->name) + " block size " + std::to_string(traits->block_size));
        t.offset = c.read<std::uint64_t>("a tensor offset");
        if (t.offset % h.alignment != 0)
            throw c.fail("tensor '" + name + "': offset " + std::to_string(t.offset) + " is not a multiple of the alignment " + std::to_string(h.alignment));
        const std::uint64_t n_blocks = numel / traits->block_size;
        if (n_blocks > std::numeric_limits<std::uint64_t>::max() / traits->type_size) throw c.fail("tensor '" + name + "': byte size overflows");
        sizes.push_back(n_blocks * traits->type_size);
        h.tensors.push_back(t);
    }
    h.data_offset = (c.pos() + h.alignment - 1) / h.alignment * h.alignment;
    const std::uint64_t data_size = h.data_offset <= file.size() ? file.size() - h.data_offset : 0;
    if (h.data_offset > file.size() && !h.tensors.empty())
        throw c.fail("data region starts at " + std::to_string(h.data_offset) + ", past the end of the file");
    // bounds, overlaps and duplicate names
    std::vector<std::size_t> order(h.tensors.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    for (std::size_t i = 0; i < h.tensors.size(); ++i) {
        auto& t = h.tensors[i];
        const std::uint64_t size = sizes[i];
        if (t.offset > data_size || size > data_size - t.offset)
            throw c.fail("tensor '" + std::string(t.name) + "': bytes [" + std::to_string(t.offset) + ", " + std::to_string(t.offset + size) +
                         ") lie outside the data region of " + std::to_string(data_size) + " bytes");
        t.bytes = file.subspan(static_cast<std::size_t>(h.data_offset + t.offset), static_cast<std::size_t>(size));
    }
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return h.tensors[a].offset < h.tensors[b].offset; });
    const gguf_tensor* prev = nullptr;  // the non-empty tensor reaching furthest so far
    for (const std::size_t i : order) {
        const auto& t = h.tensors[i];
        if (t.bytes.empty()) continue;
        if (prev != nullptr && t.offset < prev->offset + prev->bytes.size())
            throw c.fail("tensor '" + std::string(t.name) + "' overlaps tensor '" + std::string(prev->name) + "'");
        if (prev == nullptr || t.offset + t.bytes.size() > prev->offset + prev->bytes.size()) prev = &t;
    }
    std::vector<std::string_view> names;
    names.reserve(h.tensors.size());
    for (const auto& t : h.tensors) names.push_back(t.name);
    std::sort(names.begin(), names.end());
    if (const auto dup = std::adjacent_find(names.begin(), names.end()); dup != names.end())
        throw c.fail("duplicate tensor name '" + std::string(*dup) + "'");
    return h;
}

/// Converts `t` to float32, element order as stored (ne[0] fastest). Precondition: out.size() ==
/// t.numel() (else shape_error). Throws format_error for a type hoprag does not dequantise.
inline void dequantize(const gguf_tensor& t, std::span<float> out) {
    const auto n = t.numel();
    if (out.size() != n)
        throw shape_error("gguf dequantize '" + std::string(t.name) + "': output holds " + std::to_string(out.size()) + " floats, tensor has " + std::to_string(n));
    const std::byte* p = t.bytes.data();
    float* y = out.data();
    const auto blocks = [&](auto block, std::size_t per) {
        using B = decltype(block);
        for (std::uint64_t i = 0; i < n / per; ++i) {
            std::memcpy(&block, p + i * sizeof(B), sizeof(B));  // the mapping may be unaligned
            dequantize_block(block, y + i * per);
        }
    };
    const auto scalars = [&]<class T>(T, auto convert) {
        for (std::uint64_t i = 0; i < n; ++i) {
            T v;
            std::memcpy(&v, p + i * sizeof(T), sizeof(T));
            y[i] = convert(v);
        }
    };
    switch (t.type) {
        case ggml_type::f32: if (n) std::memcpy(y, p, n * 4); break;
        case ggml_type::f16: scalars(std::uint16_t{}, [](std::uint16_t b) { return f16::from_bits(b).to_float(); }); break;
        case ggml_type::bf16: scalars(std::uint16_t{}, [](std::uint16_t b) { return bf16::from_bits(b).to_float(); }); break;
        case ggml_type::f64: scalars(double{}, [](double v) { return static_cast<float>(v); }); break;
        case ggml_type::i8: scalars(std::int8_t{}, [](std::int8_t v) { return static_cast<float>(v); }); break;
        case ggml_type::i16: scalars(std::int16_t{}, [](std::int16_t v) { return static_cast<float>(v); }); break;
        case ggml_type::i32: scalars(std::int32_t{}, [](std::int32_t v) { return static_cast<float>(v); }); break;
        case ggml_type::i64: scalars(std::int64_t{}, [](std::int64_t v) { return static_cast<float>(v); }); break;
        case ggml_type::q4_0: blocks(block_q4_0{}, 32); break;
        case ggml_type::q4_1: blocks(block_q4_1{}, 32); break;
        case ggml_type::q8_0: blocks(block_q8_0{}, 32); break;
        case ggml_type::q4_k: blocks(block_q4_k{}, qk_k); break;
        case ggml_type::q6_k: blocks(block_q6_k{}, qk_k); break;
        default:
            throw format_error("gguf tensor '" + std::string(t.name) + "': hoprag does not dequantise type " + std::string(ggml_type_name(t.type)));
    }
}

/// Same, into a new vector.
inline std::vector<float> dequantize(const gguf_tensor& t) {
    std::vector<float> v(static_cast<std::size_t>(t.numel()));
    dequantize(t, v);
    return v;
}

/// A memory-mapped, validated GGUF file. Views stay valid while it lives.
class gguf_file {
public:
    /// Maps and parses `path`. Throws io_error (cannot read) or format_error (bad contents).
    explicit gguf_file(const std::filesystem::path& path) : file_(path) {
        header_ = parse_gguf(file_.bytes(), path.string());
        for (std::size_t i = 0; i < header_.tensors.size(); ++i) by_name_.emplace(header_.tensors[i].name, i);
    }

    std::uint32_t version() const { return header_.version; }
    std::uint32_t alignment() const { return header_.alignment; }
    std::uint64_t data_offset() const { return header_.data_offset; }
    const std::map<std::string, gguf_value, std::less<>>& metadata() const { return header_.metadata; }
    const std::vector<std::string_view>& key_order() const { return header_.key_order; }
    const std::vector<gguf_tensor>& tensors() const { return header_.tensors; }
    const std::filesystem::path& path() const { return file_.path(); }

    /// The value of `key`, or nullptr.
    const gguf_value* find(std::string_view key) const {
        const auto it = header_.metadata.find(key);
        return it == header_.metadata.end() ? nullptr : &it->second;
    }
    /// Integer value of `key` (any integer type); throws format_error if absent or not an integer.
    std::int64_t get_int(std::string_view key) const {
        const auto& v = require(key);
        if (const auto i = v.as_int()) return *i;
        throw wrong_type(key, v, "an integer");
    }
    /// Numeric value of `key` (float or integer); throws format_error if absent or not numeric.
    double get_double(std::string_view key) const {
        const auto& v = require(key);
        if (const auto d = v.as_double()) return *d;
        throw wrong_type(key, v, "a number");
    }
    /// String value of `key`; throws format_error if absent or not a string.
    std::string_view get_string(std::string_view key) const {
        const auto& v = require(key);
        if (const auto* s = v.as_string()) return *s;
        throw wrong_type(key, v, "a string");
    }
    /// Bool value of `key`; throws format_error if absent or not a bool.
    bool get_bool(std::string_view key) const {
        const auto& v = require(key);
        if (const auto* b = v.as_bool()) return *b;
        throw wrong_type(key, v, "a bool");
    }
    /// Array value of `key`; throws format_error if absent or not an array.
    const gguf_array& get_array(std::string_view key) const {
        const auto& v = require(key);
        if (const auto* a = v.as_array()) return *a;
        throw wrong_type(key, v, "an array");
    }

    /// The tensor called `name`, or nullptr.
    const gguf_tensor* find_tensor(std::string_view name) const {
        const auto it = by_name_.find(name);
        return it == by_name_.end() ? nullptr : &header_.tensors[it->second];
    }
    /// The tensor called `name`; throws format_error naming the file if absent.
    const gguf_tensor& tensor(std::string_view name) const {
        if (const auto* t = find_tensor(name)) return *t;
        throw format_error("gguf '" + path().string() + "': no tensor named '" + std::string(name) + "'");
    }

private:
    const gguf_value& require(std::string_view key) const {
        if (const auto* v = find(key)) return *v;
        throw format_error("gguf '" + path().string() + "': metadata key '" + std::string(key) + "' is missing");
    }
    format_error wrong_type(std::string_view key, const gguf_value& v, const char* want) const {
        return format_error("gguf '" + path().string() + "': metadata key '" + std::string(key) + "' is a " +
                            std::string(gguf_type_name(v.type())) + ", expected " + want);
    }

    mapped_file file_;
    gguf_header header_;
    std::map<std::string_view, std::size_t, std::less<>> by_name_;
};

}  // namespace hoprag::io
