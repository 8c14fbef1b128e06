// Artifact store: versions and aliases (latest, best in both directions), byte-exact fetch through
// compression, retention that spares alias targets, the size cap (stored bytes) refused with
// nothing left behind, damaged files detected, crash consistency (leftover staging folders ignored and swept;
// a writer killed with SIGKILL at random moments never leaves an incomplete visible version or an
// alias pointing at one).
#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include "hoprag/train/artifact_store.hpp"
#include "support/files.hpp"
#include "support/reference.hpp"

using namespace hoprag;
using test::fresh_dir;
using test::put;
using test::slurp;
namespace fs = std::filesystem;

namespace {

/// `n` bytes: half repetitive text, half pseudo-random, so compression has work of both kinds.
std::string content(std::size_t n, std::uint64_t seed) {
    std::string s(n, '\0');
    const philox_stream r{seed, 0};
    for (std::size_t i = 0; i < n; ++i) s[i] = i % 2 ? static_cast<char>(r.bits(i)) : static_cast<char>('a' + i % 7);
    return s;
}

train::artifact_metadata meta(std::int64_t step, double f1) {
    train::artifact_metadata m;
    m.step = step;
    m.base_model = "mlp";
    m.sequence_length = 16;
    m.config_hash = "0123456789abcdef";
    m.metrics = {{"eval_f1", f1}, {"eval_em", f1 / 2}};
    return m;
}

}  // namespace

TEST_CASE("artifact versions, aliases and byte-exact fetch", "[train][artifact]") {
    const auto d = fresh_dir("art-basic");
    for (const bool compress : {true, false}) {
        INFO("compress " << compress);
        const auto root = d / (compress ? "z" : "plain");
        train::artifact_store store(root, {.keep_last = 0, .compress = compress});
        REQUIRE(store.versions("ckpt").empty());
        REQUIRE_THROWS_WITH(store.resolve("ckpt"), Catch::Contains("no version 'latest'") && Catch::Contains("versions: none"));
        const std::vector<double> f1{0.5, 0.7, 0.6};
        std::vector<std::string> bodies;
        for (std::size_t i = 0; i < f1.size(); ++i) {
            const auto a = d / ("model-" + std::to_string(i)), b = d / ("empty-" + std::to_string(i));
            fs::create_directories(a);
            fs::create_directories(b);
            bodies.push_back(content(100000 + 3 * i + (1 << 20) * (i == 2), i));  // v2 spans several zlib buffers
            put(a / "model.safetensors", bodies.back());
            put(b / "notes.txt", "");
            const auto v = store.log("ckpt", {a / "model.safetensors", b / "notes.txt"}, meta(10 * static_cast<std::int64_t>(i), f1[i]));
            REQUIRE(v.version == static_cast<std::int64_t>(i));
            REQUIRE(v.tag() == "v" + std::to_string(i));
            REQUIRE(store.complete(v));
        }
        REQUIRE(store.versions("ckpt") == std::vector<std::int64_t>{0, 1, 2});
        REQUIRE(store.resolve("ckpt", "latest").version == 2);
        REQUIRE(store.resolve("ckpt", "best").version == 1);
        REQUIRE(store.resolve("ckpt", "v0").version == 0);
        const auto m = store.resolve("ckpt", "1").manifest;
        REQUIRE(m["step"] == 10);
        REQUIRE(m["eval_f1"] == 0.7);
        REQUIRE(m["eval_em"] == 0.35);
        REQUIRE(m["base_model"] == "mlp");
        REQUIRE(m["lora_rank"] == 0);
        REQUIRE(m["sequence_length"] == 16);
        REQUIRE(m["hoprag_version"] == HOPRAG_VERSION_STRING);
        REQUIRE(m["config_hash"] == "0123456789abcdef");
        REQUIRE(m["compression"] == (compress ? "zlib" : "none"));
        if (compress) REQUIRE(m["files"][0]["stored_bytes"].get<std::uint64_t>() < m["files"][0]["bytes"].get<std::uint64_t>());
        for (std::int64_t v = 0; v < 3; ++v) {
            const auto out = d / ("fetch-" + std::to_string(compress) + std::to_string(v));
            const auto files = store.fetch("ckpt", "v" + std::to_string(v), out);
            REQUIRE(files.size() == 2);
            REQUIRE(slurp(out / "model.safetensors") == bodies[static_cast<std::size_t>(v)]);
            REQUIRE(slurp(out / "notes.txt").empty());
        }
        REQUIRE_THROWS_WITH(store.resolve("ckpt", "v7"), Catch::Contains("versions: v0, v1, v2"));
    }
}

TEST_CASE("best by a metric to minimise, and a version without the metric never becomes best", "[train][artifact]") {
    const auto d = fresh_dir("art-min");
    train::artifact_store store(d / "s", {.keep_last = 0, .best_metric = "loss", .best_direction = train::metric_direction::minimize});
    put(d / "f", "x");
    auto m = meta(0, 0.1);
    m.metrics = {{"loss", 2.0}};
    store.log("a", {d / "f"}, m);
    m.metrics = {{"loss", 1.5}};
    store.log("a", {d / "f"}, m);
    m.metrics = {};  // no loss recorded
    store.log("a", {d / "f"}, m);
    m.metrics = {{"loss", 1.7}};
    store.log("a", {d / "f"}, m);
    REQUIRE(store.resolve("a", "best").version == 1);
    REQUIRE(store.resolve("a", "latest").version == 3);
}

TEST_CASE("retention keeps the last K plus alias targets", "[train][artifact]") {
    const auto d = fresh_dir("art-keep");
    train::artifact_store store(d / "s", {.keep_last = 2});
    put(d / "f", "payload");
    const std::vector<double> f1{0.1, 0.9, 0.2, 0.3, 0.4};
    for (std::size_t i = 0; i < f1.size(); ++i) store.log("run", {d / "f"}, meta(static_cast<std::int64_t>(i), f1[i]));
    REQUIRE(store.versions("run") == std::vector<std::int64_t>{1, 3, 4});
    REQUIRE(store.resolve("run", "best").version == 1);
    REQUIRE(store.resolve("run", "latest").version == 4);
    store.log("run", {d / "f"}, meta(5, 0.95));  // new best: v1 is no longer pinned
    REQUIRE(store.versions("run") == std::vector<std::int64_t>{4, 5});
    REQUIRE(store.resolve("run", "best").version == 5);
    for (const auto& e : fs::directory_iterator(d / "s" / "run")) REQUIRE(e.path().filename().string()[0] != '.');
}

TEST_CASE("over the size cap: a clear error and nothing written", "[train][artifact]") {
    const auto d = fresh_dir("art-cap");
    std::string noise(3000, ' ');  // incompressible: 3000 stored bytes
    std::mt19937 rng(7);
    for (auto& c : noise) c = static_cast<char>(rng());
    put(d / "big", noise);
    put(d / "small", std::string(10, 's'));
    train::artifact_store store(d / "s", {.max_bytes = 2000});
    REQUIRE_THROWS_AS(store.log("new", {d / "big"}, meta(0, 0.5)), config_error);
    REQUIRE_THROWS_WITH(store.log("new", {d / "big"}, meta(0, 0.5)), Catch::Contains("size cap") && Catch::Contains("nothing was written"));
    REQUIRE_FALSE(fs::exists(d / "s" / "new"));
    store.log("old", {d / "small"}, meta(0, 0.5));
    const auto before = slurp(d / "s" / "old" / "aliases.json");
    REQUIRE_THROWS_AS(store.log("old", {d / "small", d / "big"}, meta(1, 0.9)), config_error);
    REQUIRE(store.versions("old") == std::vector<std::int64_t>{0});
    REQUIRE(slurp(d / "s" / "old" / "aliases.json") == before);
    std::size_t entries = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(d / "s" / "old")) ++entries;
    REQUIRE(entries == 2);  // v0 and aliases.json only
    // the cap counts stored bytes: 3000 compressible bytes fit under 2000, and without
    // compression the input size is refused before anything is written
    put(d / "zeros", std::string(3000, '\0'));
    REQUIRE(store.log("packed", {d / "zeros"}, meta(0, 0.5)).version == 0);
    train::artifact_store raw(d / "raw", {.max_bytes = 2000, .compress = false});
    REQUIRE_THROWS_WITH(raw.log("new", {d / "zeros"}, meta(0, 0.5)), Catch::Contains("size cap"));
    REQUIRE_FALSE(fs::exists(d / "raw" / "new" / "v0"));
    // the default cap is 500 MB
    REQUIRE(train::artifact_options{}.max_bytes == 500'000'000);
    REQUIRE_THROWS_WITH(store.log("../evil", {d / "small"}, meta(0, 0)), Catch::Contains("invalid"));
}

TEST_CASE("damaged stored files are detected on fetch", "[train][artifact]") {
    const auto d = fresh_dir("art-damage");
    put(d / "m", content(50000, 3));
    train::artifact_store store(d / "s");
    const auto v = store.log("x", {d / "m"}, meta(0, 0.5));
    const auto stored = v.dir / "m.zz";
    auto bytes = slurp(stored);
    bytes[bytes.size() / 2] ^= 0x55;
    put(stored, bytes);
    REQUIRE_THROWS_AS(store.fetch("x", "latest", d / "out"), format_error);
    fs::resize_file(stored, 10);
    REQUIRE_FALSE(store.complete(store.resolve("x")));
    REQUIRE_THROWS_AS(store.fetch("x", "latest", d / "out"), format_error);
}

TEST_CASE("a crash mid-version leaves only complete versions and valid aliases", "[train][artifact]") {
    const auto d = fresh_dir("art-crash");
    put(d / "m", content(1 << 20, 9));
    train::artifact_store store(d / "s", {.keep_last = 3});
    store.log("ck", {d / "m"}, meta(0, 0.1));

    SECTION("a leftover staging folder is invisible and swept by the next log") {
        const auto st = d / "s" / "ck" / ".staging-v1-999999";
        fs::create_directories(st);
        put(st / "m.zz", "partial");
        REQUIRE(store.versions("ck") == std::vector<std::int64_t>{0});
        REQUIRE(store.resolve("ck").version == 0);
        REQUIRE(store.log("ck", {d / "m"}, meta(1, 0.2)).version == 1);
        REQUIRE_FALSE(fs::exists(st));
    }
    SECTION("SIGKILL at random moments during logs") {
        const philox_stream r{2024, 7};
        for (int round = 0; round < 4; ++round) {
            const pid_t pid = ::fork();
            REQUIRE(pid >= 0);
            if (pid == 0) {
                try {
                    for (int i = 0; i < 100; ++i) store.log("ck", {d / "m"}, meta(100 + i, 0.3 + 0.001 * i));
                } catch (...) {
                }
                ::_exit(0);
            }
            std::this_thread::sleep_for(std::chrono::microseconds(5000 + r.bits(static_cast<std::uint64_t>(round)) % 250000));
            ::kill(pid, SIGKILL);
            int status = 0;
            ::waitpid(pid, &status, 0);
            const auto vs = store.versions("ck");
            INFO("round " << round << ", versions " << vs.size());
            REQUIRE_FALSE(vs.empty());
            for (const char* alias : {"latest", "best"}) {
                const auto v = store.resolve("ck", alias);  // throws if the alias points at nothing visible
                REQUIRE(store.complete(v));
            }
            for (auto v : vs) REQUIRE(store.complete(store.resolve("ck", std::to_string(v))));
            REQUIRE(slurp(store.fetch("ck", "latest", d / "out").at(0)) == slurp(d / "m"));
        }
        // the store keeps working after the crashes
        const auto after = store.log("ck", {d / "m"}, meta(999, 0.01));
        REQUIRE(store.resolve("ck").version == after.version);
    }
}
