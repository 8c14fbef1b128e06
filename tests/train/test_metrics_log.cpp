// Metrics JSONL: round trip through the reader, one flushed line per write (readable while the
// writer is alive), null for non-finite values, recovery after a cut-off last line, clear errors
// for malformed lines; progress lines for terminals and logs.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "hoprag/train/metrics_log.hpp"
#include "support/files.hpp"
#include "support/reference.hpp"

using namespace hoprag;
using test::slurp;
using namespace hoprag::train;

namespace {
std::string temp_path(const std::string& name) {
    const auto dir = std::filesystem::path(test::binary_dir()) / "test-tmp";
    std::filesystem::create_directories(dir);
    const auto p = dir / (name + "-" + std::to_string(::getpid()) + ".jsonl");
    std::filesystem::remove(p);
    return p.string();
}
}  // namespace

TEST_CASE("metrics JSONL round trip, flushed per line", "[train][metrics]") {
    const auto path = temp_path("metrics");
    {
        metrics_writer w(path);
        w.write(1, {{"loss", 2.5}, {"lr", 1e-4}});
        // flushed: another reader sees the line while the writer is still open
        const auto early = read_metrics(path);
        REQUIRE(early.size() == 1);
        REQUIRE(early[0].values.at("loss") == 2.5);
        w.write(2, {{"loss", NAN}, {"eval_f1", 0.625}});
        w.sync();
    }
    const auto text = slurp(path);
    REQUIRE(std::count(text.begin(), text.end(), '\n') == 2);
    REQUIRE(text.find("\"loss\":null") != std::string::npos);
    REQUIRE(text.rfind("{\"step\":1,\"time\":", 0) == 0);  // step and time first
    const auto r = read_metrics(path);
    REQUIRE(r.size() == 2);
    REQUIRE(r[0].step == 1);
    REQUIRE(r[0].values.at("lr") == 1e-4);
    REQUIRE(r[0].time > 1.6e9);
    REQUIRE(r[1].step == 2);
    REQUIRE(std::isnan(r[1].values.at("loss")));
    REQUIRE(r[1].values.at("eval_f1") == 0.625);
    std::filesystem::remove(path);
}

TEST_CASE("a cut-off last line is ignored and appending resumes on a fresh line", "[train][metrics]") {
    const auto path = temp_path("cutoff");
    {
        metrics_writer w(path);
        w.write(1, {{"loss", 1.0}});
    }
    {
        std::ofstream f(path, std::ios::app | std::ios::binary);
        f << "{\"step\":2,\"lo";  // a kill in the middle of a write
    }
    REQUIRE(read_metrics(path).size() == 1);
    {
        metrics_writer w(path);
        w.write(3, {{"loss", 0.5}});
    }
    // the garbage line is now complete and malformed: the reader names it
    REQUIRE_THROWS_WITH(read_metrics(path), Catch::Contains(":2: not a JSON object"));
    std::filesystem::remove(path);
}

TEST_CASE("metrics errors name the file and line", "[train][metrics]") {
    const auto path = temp_path("bad");
    {
        std::ofstream f(path, std::ios::binary);
        f << "{\"step\":1,\"loss\":1}\n{\"loss\":2}\n";
    }
    REQUIRE_THROWS_WITH(read_metrics(path), Catch::Contains(path + ":2: missing integer \"step\""));
    {
        std::ofstream f(path, std::ios::binary);
        f << "{\"step\":1,\"loss\":\"high\"}\n";
    }
    REQUIRE_THROWS_AS(read_metrics(path), format_error);
    REQUIRE_THROWS_AS(read_metrics(path + ".missing"), io_error);
    REQUIRE_THROWS_AS(metrics_writer(test::binary_dir() + "/no/such/dir/m.jsonl"), io_error);
    metrics_writer w(path);
    REQUIRE_THROWS_AS(w.write(1, {{"step", 1.0}}), config_error);
    std::filesystem::remove(path);
}

TEST_CASE("progress lines for terminals and logs", "[train][metrics]") {
    progress_info p;
    p.step = 50;
    p.total = 100;
    p.loss = 2.345678;
    p.tokens_per_s = 12345.0;
    p.eta_s = 3725.0;
    p.memory_bytes = std::int64_t{3} << 30;
    REQUIRE(format_progress(p, false) == "step 50/100 loss 2.3457 12.3k tok/s eta 1h02m mem 3.00 GiB");
    REQUIRE(format_progress(p, true, 10) == "[#####-----] 50/100 loss 2.3457 12.3k tok/s eta 1h02m mem 3.00 GiB");
    progress_info bare;
    bare.step = 7;
    REQUIRE(format_progress(bare, false) == "step 7");
    REQUIRE(format_duration(42.4) == "42s");
    REQUIRE(format_duration(185) == "3m05s");
    REQUIRE(format_duration(2 * 86400 + 3 * 3600) == "2d03h");
    REQUIRE(format_duration(-1) == "?");

    const auto path = temp_path("progress");
    std::FILE* f = std::fopen(path.c_str(), "w+");
    REQUIRE(f);
    {
        progress_printer plain(f);  // a file is not a terminal
        REQUIRE_FALSE(plain.tty());
        plain.print(bare);
        progress_printer bar(f, true);
        bar.print(p);
    }
    std::fclose(f);
    REQUIRE(slurp(path) == "step 7\n\r" + format_progress(p, true) + "\x1b[K\n");
    std::filesystem::remove(path);
}
