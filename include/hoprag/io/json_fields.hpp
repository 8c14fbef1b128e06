// Typed field access for small JSON files (Hugging Face config.json and the like). Each accessor
// names the file and key in a `config_error` when a required key is missing or has the wrong type,
// so a user sees e.g. "config.json: key 'num_attention_heads' is missing (needed for a Llama
// config)". `read_json_file` reads a whole small file and reports bad JSON as `format_error`.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "hoprag/core/error.hpp"
#include "hoprag/io/mapped_file.hpp"

namespace hoprag::io {

/// Parses the JSON file at `path`. Throws io_error if unreadable, format_error if not valid JSON.
inline nlohmann::json read_json_file(const std::filesystem::path& path) {
    const mapped_file f(path);
    const auto* text = reinterpret_cast<const char*>(f.data());
    try {
        return nlohmann::json::parse(text, text + f.size());
    } catch (const nlohmann::json::exception& e) {
        throw format_error("'" + path.string() + "' is not valid JSON: " + e.what());
    }
}

/// Reads typed keys of one JSON object; `origin` (a file name) and `what` (e.g. "a BERT config")
/// appear in every error.
class json_fields {
public:
    json_fields(const nlohmann::json& j, std::string origin, std::string what) : j_(j), origin_(std::move(origin)), what_(std::move(what)) {
        if (!j_.is_object()) throw config_error(origin_ + ": expected a JSON object for " + what_);
    }

    bool has(std::string_view key) const {
        const auto it = j_.find(key);
        return it != j_.end() && !it->is_null();
    }
    /// Integer `key` (>= 0 unless `allow_negative`); throws config_error if missing or not an integer.
    std::int64_t integer(std::string_view key, bool allow_negative = false) const {
        const auto& v = need(key);
        if (!v.is_number_integer()) throw bad_type(key, v, "an integer");
        const auto x = v.get<std::int64_t>();
        if (!allow_negative && x < 0) throw config_error(origin_ + ": key '" + std::string(key) + "' is " + std::to_string(x) + ", expected >= 0");
        return x;
    }
    std::int64_t integer_or(std::string_view key, std::int64_t fallback) const { return has(key) ? integer(key) : fallback; }
    /// Number `key` (integer or float); throws config_error if missing or not a number.
    double number(std::string_view key) const {
        const auto& v = need(key);
        if (!v.is_number()) throw bad_type(key, v, "a number");
        return v.get<double>();
    }
    double number_or(std::string_view key, double fallback) const { return has(key) ? number(key) : fallback; }
    /// String `key`; throws config_error if missing or not a string.
    std::string string(std::string_view key) const {
        const auto& v = need(key);
        if (!v.is_string()) throw bad_type(key, v, "a string");
        return v.get<std::string>();
    }
    std::string string_or(std::string_view key, std::string fallback) const { return has(key) ? string(key) : fallback; }
    /// Bool `key`; throws config_error if missing or not a bool.
    bool boolean(std::string_view key) const {
        const auto& v = need(key);
        if (!v.is_boolean()) throw bad_type(key, v, "true or false");
        return v.get<bool>();
    }
    bool boolean_or(std::string_view key, bool fallback) const { return has(key) ? boolean(key) : fallback; }

    const std::string& origin() const { return origin_; }

private:
    const nlohmann::json& need(std::string_view key) const {
        const auto it = j_.find(key);
        if (it == j_.end() || it->is_null())
            throw config_error(origin_ + ": key '" + std::string(key) + "' is missing (needed for " + what_ + ")");
        return *it;
    }
    config_error bad_type(std::string_view key, const nlohmann::json& v, const char* want) const {
        return config_error(origin_ + ": key '" + std::string(key) + "' is " + v.dump() + ", expected " + want);
    }

    const nlohmann::json& j_;
    std::string origin_;
    std::string what_;
};

}  // namespace hoprag::io
