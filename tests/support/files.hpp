// Test support: scratch folders under the build tree and whole-file reads.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "support/reference.hpp"

namespace hoprag::test {

/// A new, empty folder build/test-files/NAME-PID (an earlier one of that name is removed).
inline std::filesystem::path fresh_dir(const std::string& name) {
    const auto d = std::filesystem::path(binary_dir()) / "test-files" / (name + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(d);
    std::filesystem::create_directories(d);
    return d;
}

/// The whole contents of file `p` ("" when it cannot be opened).
inline std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace hoprag::test
