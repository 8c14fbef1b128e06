// Test support for the tokenizer golden tests: reads tests/golden/tokenizer_inputs.jsonl (one JSON
// string per line) and the matching .ids files (one line of space-separated ids per input).
#pragma once

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "support/reference.hpp"

namespace hoprag::test {

inline std::string golden_path(const std::string& name) { return source_dir() + "/tests/golden/" + name; }
inline std::string model_path(const std::string& name) { return source_dir() + "/.cache/models/" + name; }

inline std::vector<std::string> read_lines(const std::string& path) {
    std::ifstream in(path);
    INFO("reading " << path);
    REQUIRE(in.good());
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

inline std::vector<std::string> golden_inputs() {
    std::vector<std::string> out;
    for (const auto& line : read_lines(golden_path("tokenizer_inputs.jsonl"))) out.push_back(nlohmann::json::parse(line).get<std::string>());
    return out;
}

inline std::vector<std::vector<std::int32_t>> golden_ids(const std::string& name) {
    std::vector<std::vector<std::int32_t>> out;
    for (const auto& line : read_lines(golden_path(name))) {
        std::istringstream ss(line);
        std::vector<std::int32_t> ids;
        for (std::int32_t v; ss >> v;) ids.push_back(v);
        out.push_back(std::move(ids));
    }
    return out;
}

}  // namespace hoprag::test
