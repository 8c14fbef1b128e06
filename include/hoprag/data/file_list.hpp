// Comma-separated file lists, the form every multi-file option takes ("--train a.jsonl,b.jsonl").
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace hoprag::data {

/// The names of the comma-separated list `files`, in order (empty names skipped).
[[nodiscard]] inline std::vector<std::string> file_list(std::string_view files) {
    std::vector<std::string> out;
    while (!files.empty()) {
        const auto comma = files.find(',');
        if (const auto name = files.substr(0, comma); !name.empty()) out.emplace_back(name);
        files = comma == std::string_view::npos ? std::string_view{} : files.substr(comma + 1);
    }
    return out;
}

}  // namespace hoprag::data
