// Config structs to and from JSON by a Boost.PFR walk, and the config hash checkpoints compare.
// Boost 1.81's PFR cannot see field names, so a config struct lists them itself in a
// `static constexpr std::array<std::string_view, N> field_names` whose size must equal the number
// of fields (checked at compile time). Supported field types: bool, integers, floating point,
// std::string, enums (as their integer value) and nested structs that follow the same rule.
// `config_to_json` writes every field in declaration order; `config_from_json` reads them back and
// throws config_error naming the key for a missing key or a value of the wrong type.
// `config_hash` is FNV-1a 64 over the compact JSON text, printed as 16 hex digits: two configs hash
// equally iff every field is equal (floats compare by their shortest round-trip text).
#pragma once

#include <boost/pfr.hpp>

#include <array>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "hoprag/core/error.hpp"

namespace hoprag::train {

/// A struct whose fields PFR can walk and which names them in `T::field_names`.
template <class T>
concept named_config = std::is_aggregate_v<T> && requires {
    { T::field_names.size() } -> std::convertible_to<std::size_t>;
};

namespace detail {

template <class T>
constexpr void check_names() {
    static_assert(T::field_names.size() == boost::pfr::tuple_size_v<T>,
                  "config struct: field_names must list exactly one name per field, in declaration order");
}

template <class F>
nlohmann::ordered_json field_to_json(const F& v);

template <named_config T>
nlohmann::ordered_json struct_to_json(const T& c) {
    check_names<T>();
    nlohmann::ordered_json j = nlohmann::ordered_json::object();
    boost::pfr::for_each_field(c, [&](const auto& f, std::size_t i) { j[std::string(T::field_names[i])] = field_to_json(f); });
    return j;
}

template <class F>
nlohmann::ordered_json field_to_json(const F& v) {
    if constexpr (named_config<F>) return struct_to_json(v);
    else if constexpr (std::is_enum_v<F>) return static_cast<std::underlying_type_t<F>>(v);
    else if constexpr (std::is_same_v<F, bool> || std::is_arithmetic_v<F> || std::is_same_v<F, std::string>) return v;
    else static_assert(sizeof(F) == 0, "config_to_json: unsupported field type (use bool, numbers, std::string, enums or named_config structs)");
}

template <class F>
void field_from_json(F& out, const nlohmann::json& j, const std::string& key);

template <named_config T>
void struct_from_json(T& c, const nlohmann::json& j, const std::string& prefix) {
    check_names<T>();
    if (!j.is_object()) throw config_error("config: '" + (prefix.empty() ? std::string("<root>") : prefix) + "' is not a JSON object");
    boost::pfr::for_each_field(c, [&](auto& f, std::size_t i) {
        const std::string name(T::field_names[i]);
        const std::string key = prefix.empty() ? name : prefix + "." + name;
        const auto it = j.find(name);
        if (it == j.end()) throw config_error("config: key '" + key + "' is missing");
        field_from_json(f, *it, key);
    });
}

template <class F>
void field_from_json(F& out, const nlohmann::json& j, const std::string& key) {
    const auto wrong = [&](const char* want) { return config_error("config: key '" + key + "' holds " + j.dump() + ", expected " + want); };
    if constexpr (named_config<F>) {
        struct_from_json(out, j, key);
    } else if constexpr (std::is_same_v<F, bool>) {
        if (!j.is_boolean()) throw wrong("true or false");
        out = j.get<bool>();
    } else if constexpr (std::is_enum_v<F>) {
        if (!j.is_number_integer()) throw wrong("an integer (enum value)");
        out = static_cast<F>(j.get<std::underlying_type_t<F>>());
    } else if constexpr (std::is_integral_v<F>) {
        if (!j.is_number_integer()) throw wrong("an integer");
        out = j.get<F>();
    } else if constexpr (std::is_floating_point_v<F>) {
        if (!j.is_number()) throw wrong("a number");
        out = j.get<F>();
    } else if constexpr (std::is_same_v<F, std::string>) {
        if (!j.is_string()) throw wrong("a string");
        out = j.get<std::string>();
    } else {
        static_assert(sizeof(F) == 0, "config_from_json: unsupported field type");
    }
}

}  // namespace detail

/// Every field of `c` as a JSON object, keys in declaration order (nested structs as objects).
template <named_config T>
nlohmann::ordered_json config_to_json(const T& c) {
    return detail::struct_to_json(c);
}

/// Reads every field of `T` from `j`; throws config_error naming the key that is missing or mistyped.
/// Keys of `j` that T does not know are ignored.
template <named_config T>
T config_from_json(const nlohmann::json& j) {
    T c{};
    detail::struct_from_json(c, j, "");
    return c;
}

/// FNV-1a 64 of `text` as 16 lowercase hex digits.
inline std::string fnv1a_hex(std::string_view text) {
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char ch : text) {
        h ^= ch;
        h *= 0x100000001b3ull;
    }
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return buf;
}

/// The hash of a config's compact JSON text (16 hex digits).
inline std::string config_hash(const nlohmann::ordered_json& config) { return fnv1a_hex(config.dump()); }

template <named_config T>
std::string config_hash(const T& c) {
    return config_hash(config_to_json(c));
}

}  // namespace hoprag::train
