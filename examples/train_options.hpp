// Option handling shared by the training programs (hoprag-train-mlp, hoprag-train-generator, hoprag-train-reranker): two
// structs walked by Boost.PFR (a `train_config` whose fields change the numbers and a `run_config`
// for run control, each with a static `field_names` array) are filled from --config FILE.yaml
// (keys as the flags without --, '-' or '_') and then from command-line flags, which override it.
// `--resume` and `--no-tensorboard` set run_config::resume / tensorboard; `--help` throws
// usage_error("") (the caller prints its usage text). A train_config may name list options in a
// static `list_fields` array: their values are comma-separated lists, and a flag given twice on the
// command line adds to the list instead of replacing it.
#pragma once

#include <yaml-cpp/yaml.h>

#include <boost/pfr.hpp>

#include <cstddef>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

#include "program_main.hpp"

namespace train_cli {

using program::usage_error;

inline std::string canon(std::string k) {
    for (auto& c : k)
        if (c == '-') c = '_';
    return k;
}

/// Sets field `key` of the PFR-walked struct `s` from text; false if `s` has no such field.
template <class S>
bool set_field(S& s, const std::string& key, const std::string& value, const std::string& origin) {
    bool found = false;
    boost::pfr::for_each_field(s, [&](auto& f, std::size_t i) {
        if (S::field_names[i] != key) return;
        found = true;
        using F = std::decay_t<decltype(f)>;
        try {
            std::size_t used = value.size();
            if constexpr (std::is_same_v<F, bool>) {
                if (value != "true" && value != "false") throw std::invalid_argument("bool");
                f = value == "true";
            } else if constexpr (std::is_integral_v<F>) f = std::stoll(value, &used);
            else if constexpr (std::is_floating_point_v<F>) f = std::stod(value, &used);
            else f = value;
            if (used != value.size()) throw std::invalid_argument("trailing");
        } catch (const std::exception&) {
            throw usage_error(origin + ": '" + value + "' is not a valid value for " + key);
        }
    });
    return found;
}

template <class T, class R>
void set_option(T& t, R& r, const std::string& key, const std::string& value, const std::string& origin) {
    if (!set_field(t, key, value, origin) && !set_field(r, key, value, origin)) throw usage_error(origin + ": unknown option '" + key + "'");
}

/// Whether `key` names a list option of `T` (its optional `list_fields`: comma-separated values,
/// and a repeated command-line flag adds to the list).
template <class T>
bool list_field(const std::string& key) {
    if constexpr (requires { T::list_fields; }) {
        for (const auto f : T::list_fields)
            if (f == key) return true;
    }
    return false;
}

/// Fills `t` and `r` from --config (pass 1) and the other flags (pass 2).
template <class T, class R>
void parse_config_and_flags(int argc, char** argv, T& t, R& r) {
    for (int i = 1; i < argc; ++i) {
        if (std::string_view(argv[i]) != "--config") continue;
        if (i + 1 >= argc) throw usage_error("--config needs a file");
        const std::string file = argv[i + 1];
        YAML::Node y;
        try {
            y = YAML::LoadFile(file);
        } catch (const YAML::Exception& e) {
            throw usage_error(file + ": " + e.what());
        }
        if (!y.IsMap()) throw usage_error(file + ": expected a mapping of option: value");
        for (const auto& kv : y) {
            const std::string key = canon(kv.first.as<std::string>());
            if (key == "config") throw usage_error(file + ": 'config' cannot be nested");
            set_option(t, r, key, kv.second.as<std::string>(), file + ": key '" + key + "'");
        }
    }
    std::map<std::string, std::string> list_values;  // list options given on the command line so far
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--help") throw usage_error("");
        if (a.rfind("--", 0) != 0) throw usage_error("unexpected argument '" + a + "'");
        const std::string key = canon(a.substr(2));
        if (key == "resume") {
            r.resume = true;
            continue;
        }
        if (key == "no_tensorboard") {
            r.tensorboard = false;
            continue;
        }
        if (i + 1 >= argc) throw usage_error(a + " needs a value");
        const std::string value = argv[++i];
        if (key == "config") continue;
        if (list_field<T>(key) && !list_values[key].empty()) list_values[key] += ",";
        set_option(t, r, key, list_field<T>(key) ? list_values[key] += value : value, "command line: " + a);
    }
}

}  // namespace train_cli
