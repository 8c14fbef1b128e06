// Test support: golden files and JSON reads, scratch folders under the build tree, whole-file writes, whole-file and per-line reads, a check that
// an input provided by scripts/setup is present, and running a shell command for its exit status
// (the program tests).
#pragma once

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>
#include <vector>

#include "support/reference.hpp"

namespace hoprag::test {

/// tests/golden/NAME in the source tree.
inline std::filesystem::path golden(const std::string& name) { return std::filesystem::path(source_dir()) / "tests" / "golden" / name; }

/// The JSON document in file `p`.
inline nlohmann::json read_json(const std::filesystem::path& p) {
    std::ifstream f(p);
    return nlohmann::json::parse(f);
}

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

/// Writes `text` to file `p` (replacing it).
inline void put(const std::filesystem::path& p, const std::string& text) {
    std::ofstream f(p, std::ios::binary);
    f << text;
}

/// The lines of file `p` without their line endings (none when it cannot be opened).
inline std::vector<std::string> lines_of(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::vector<std::string> out;
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
}

/// Fails the current test (never skips it) when `p`, an input that scripts/setup provides (a model
/// file, the reference-tool venv), does not exist: a test must not pass without its input.
inline void require_setup_input(const std::filesystem::path& p) {
    if (!std::filesystem::exists(p)) FAIL(p.string() << " is missing: run scripts/setup");
}

/// bin/NAME of the build tree; the test fails when the program was not built.
inline std::filesystem::path program(const std::string& name) {
    const auto p = std::filesystem::path(binary_dir()) / "bin" / name;
    if (!std::filesystem::exists(p)) FAIL("the program must be built: " << p.string());
    return p;
}

/// Runs `cmd` with the shell; its exit status (128 when it did not exit normally).
inline int run_command(const std::string& cmd) {
    const int s = std::system(cmd.c_str());
    return WIFEXITED(s) ? WEXITSTATUS(s) : 128;
}

}  // namespace hoprag::test
