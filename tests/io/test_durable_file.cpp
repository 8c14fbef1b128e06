// Durable writes and mapped files: contents round trip, overwrite is atomic, an abandoned or
// killed writer never replaces the good file, errors are io_error naming the path.
#include <catch2/catch.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include "hoprag/io/durable_file.hpp"
#include "hoprag/io/mapped_file.hpp"
#include "support/files.hpp"
#include "support/reference.hpp"

using namespace hoprag;
using test::fresh_dir;
using test::slurp;
namespace fs = std::filesystem;

namespace {

std::size_t count_entries(const fs::path& d) {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(d)) ++n;
    return n;
}

}  // namespace

TEST_CASE("write_file_durably writes, overwrites and leaves no temp file", "[io]") {
    const auto d = fresh_dir("durable");
    const auto p = d / "a.bin";
    io::write_file_durably(p, std::string_view("first version"));
    REQUIRE(slurp(p) == "first version");
    io::write_file_durably(p, std::string_view("second"));
    REQUIRE(slurp(p) == "second");
    std::vector<std::byte> big(1 << 20);
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = std::byte(static_cast<unsigned char>(i * 7 + 3));
    io::write_file_durably(p, big);
    const io::mapped_file m(p);
    REQUIRE(m.size() == big.size());
    REQUIRE(std::equal(big.begin(), big.end(), m.bytes().begin()));
    REQUIRE(count_entries(d) == 1);
}

TEST_CASE("durable_writer streams and publishes only on commit", "[io]") {
    const auto d = fresh_dir("writer");
    const auto p = d / "ckpt.bin";
    io::write_file_durably(p, std::string_view("good"));
    {
        io::durable_writer w(p);
        w.write(std::string_view("partial new con"));
        REQUIRE(fs::exists(w.temp_path()));
        REQUIRE(slurp(p) == "good");  // not yet published
    }  // destroyed without commit
    REQUIRE(slurp(p) == "good");
    REQUIRE(count_entries(d) == 1);
    {
        io::durable_writer w(p);
        w.write(std::string_view("new "));
        w.write(std::string_view("content"));
        REQUIRE(w.size() == 11);
        w.commit();
        REQUIRE_THROWS_AS(w.write(std::string_view("x")), io_error);
    }
    REQUIRE(slurp(p) == "new content");
    REQUIRE(count_entries(d) == 1);
}

TEST_CASE("a writer killed mid-write leaves the previous file intact", "[io]") {
    const auto d = fresh_dir("killed");
    const auto p = d / "index.bin";
    io::write_file_durably(p, std::string_view("last good state"));
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        io::durable_writer w(p);
        w.write(std::string_view("half of a new st"));
        ::raise(SIGKILL);  // no destructor, no commit
        ::_exit(0);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    REQUIRE(WIFSIGNALED(status));
    REQUIRE(slurp(p) == "last good state");
    // the orphaned temp file is there, under its own name, never under the target's
    REQUIRE(fs::exists(d / ("index.bin.tmp-" + std::to_string(child))));
}

TEST_CASE("durable writes report io_error naming the path", "[io]") {
    const auto d = fresh_dir("errors");
    const auto bad = d / "no-such-folder" / "x.bin";
    try {
        io::write_file_durably(bad, std::string_view("x"));
        FAIL("expected io_error");
    } catch (const io_error& e) {
        const std::string msg = e.what();
        INFO(msg);
        REQUIRE(msg.find("no-such-folder") != std::string::npos);
        REQUIRE(msg.find("No such file or directory") != std::string::npos);
    }
    // renaming onto an existing folder fails at commit; the temp file is cleaned up
    fs::create_directories(d / "taken" / "inner");
    {
        io::durable_writer w(d / "taken");
        w.write(std::string_view("data"));
        REQUIRE_THROWS_AS(w.commit(), io_error);
    }
    REQUIRE(count_entries(d) == 1);
}

TEST_CASE("mapped_file maps files, empty files and reports errors", "[io]") {
    const auto d = fresh_dir("mapped");
    io::write_file_durably(d / "empty", std::string_view(""));
    const io::mapped_file e(d / "empty");
    REQUIRE(e.empty());
    REQUIRE(e.bytes().size() == 0);
    io::write_file_durably(d / "three", std::string_view("abc"));
    io::mapped_file m(d / "three");
    REQUIRE(m.size() == 3);
    REQUIRE(static_cast<char>(m.bytes()[2]) == 'c');
    io::mapped_file moved(std::move(m));
    REQUIRE(moved.size() == 3);
    REQUIRE(m.size() == 0);
    REQUIRE_THROWS_AS(io::mapped_file(d / "missing"), io_error);
    REQUIRE_THROWS_WITH(io::mapped_file(d / "missing"), Catch::Contains("missing"));
    REQUIRE_THROWS_WITH(io::mapped_file(d), Catch::Contains("not a regular file"));
}
