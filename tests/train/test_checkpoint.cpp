// Checkpoints: bit-exact round trip of parameters, moments, state and config; validation of names,
// shapes and config hash; a full disk during a save (RLIMIT_FSIZE in a child process -> EFBIG)
// leaves the previous checkpoint intact and reports a clear io_error. Config structs round trip
// through the PFR walk.
#include <catch2/catch.hpp>

#include <array>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hoprag/train/checkpoint.hpp"
#include "support/files.hpp"
#include "support/reference.hpp"

using namespace hoprag;
using test::fresh_dir;
using train::named_tensor;
namespace fs = std::filesystem;

namespace {

struct optim_config {
    double lr = 1e-3;
    float beta2 = 0.999f;
    static constexpr std::array<std::string_view, 2> field_names{"lr", "beta2"};
};
enum class mode : int { a = 1, b = 7 };
struct run_config {
    std::int64_t steps = 100;
    bool fp16 = false;
    std::string name = "run";
    mode m = mode::a;
    optim_config optim{};
    static constexpr std::array<std::string_view, 5> field_names{"steps", "fp16", "name", "mode", "optim"};
};

named_tensor random_tensor(const std::string& name, shape dims, std::uint64_t seed) {
    return {name, dims, test::random_floats(static_cast<std::size_t>(dims.numel()), seed, -3.0f, 3.0f)};
}

train::checkpoint sample(const run_config& rc) {
    train::checkpoint c;
    const std::vector<std::pair<std::string, shape>> specs{{"w1", {7, 3}}, {"b1", {3}}, {"empty", {0, 5}}, {"s", {}}};
    std::uint64_t seed = 11;
    for (const auto& [n, d] : specs) {
        c.params.push_back(random_tensor(n, d, seed++));
        c.adam_m.push_back(random_tensor(n, d, seed++));
        c.adam_v.push_back(random_tensor(n, d, seed++));
    }
    c.params[0].data[4] = -0.0f;  // signed zero and a denormal survive bit for bit
    c.params[0].data[5] = 1e-42f;
    c.state.step = 123;
    c.state.epoch = 2;
    c.state.data_position = 77;
    c.state.rng_seed = 0xfedcba9876543210ull;
    c.state.rng_counter = 99;
    c.state.accum_done = 1;
    c.state.scaler = {1024.0f, 17, 3, 1};
    c.state.extra = {{"best_eval", 0.8125}};
    c.config = train::config_to_json(rc);
    return c;
}

std::vector<train::tensor_spec> specs_of(const train::checkpoint& c) {
    std::vector<train::tensor_spec> s;
    for (const auto& t : c.params) s.push_back({t.name, t.dims});
    return s;
}

void require_same_bits(const std::vector<named_tensor>& a, const std::vector<named_tensor>& b) {
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        INFO("tensor " << a[i].name);
        REQUIRE(a[i].name == b[i].name);
        REQUIRE(a[i].dims == b[i].dims);
        REQUIRE(a[i].data.size() == b[i].data.size());
        if (!a[i].data.empty()) REQUIRE(std::memcmp(a[i].data.data(), b[i].data.data(), a[i].data.size() * sizeof(float)) == 0);
    }
}

}  // namespace

TEST_CASE("config structs round trip through JSON and hash by value", "[train][checkpoint]") {
    run_config rc;
    rc.steps = 5;
    rc.name = "x";
    rc.m = mode::b;
    rc.optim.lr = 3e-4;
    const auto j = train::config_to_json(rc);
    REQUIRE(j.dump() == R"({"steps":5,"fp16":false,"name":"x","mode":7,"optim":{"lr":0.0003,"beta2":0.9990000128746033}})");
    const auto back = train::config_from_json<run_config>(j);
    REQUIRE(back.steps == 5);
    REQUIRE(back.name == "x");
    REQUIRE(back.m == mode::b);
    REQUIRE(back.optim.lr == 3e-4);
    REQUIRE(back.optim.beta2 == 0.999f);
    REQUIRE(train::config_hash(back) == train::config_hash(rc));
    rc.optim.lr = 3.0001e-4;
    REQUIRE(train::config_hash(back) != train::config_hash(rc));
    nlohmann::json bad = j;
    bad["optim"].erase("lr");
    REQUIRE_THROWS_WITH(train::config_from_json<run_config>(bad), Catch::Contains("optim.lr") && Catch::Contains("missing"));
    bad = j;
    bad["steps"] = "many";
    REQUIRE_THROWS_WITH(train::config_from_json<run_config>(bad), Catch::Contains("'steps'") && Catch::Contains("integer"));
}

TEST_CASE("checkpoint round trip is bit exact", "[train][checkpoint]") {
    const auto d = fresh_dir("ckpt-roundtrip");
    const run_config rc;
    const auto c = sample(rc);
    const auto path = d / "step-123.safetensors";
    train::save_checkpoint(path, c);
    const auto specs = specs_of(c);
    const auto r = train::load_checkpoint(path, specs, train::config_to_json(rc));
    require_same_bits(r.params, c.params);
    require_same_bits(r.adam_m, c.adam_m);
    require_same_bits(r.adam_v, c.adam_v);
    REQUIRE(r.state.step == 123);
    REQUIRE(r.state.epoch == 2);
    REQUIRE(r.state.data_position == 77);
    REQUIRE(r.state.rng_seed == 0xfedcba9876543210ull);
    REQUIRE(r.state.rng_counter == 99);
    REQUIRE(r.state.accum_done == 1);
    REQUIRE(r.state.scaler.scale == 1024.0f);
    REQUIRE(r.state.scaler.good_steps == 17);
    REQUIRE(r.state.scaler.skipped_steps == 3);
    REQUIRE(r.state.scaler.consecutive_skips == 1);
    REQUIRE(r.state.extra["best_eval"].get<double>() == 0.8125);
    REQUIRE(r.config == train::config_to_json(rc));
    // the file is a plain safetensors file with the metadata a user can read
    const io::safetensors_file f(path);
    REQUIRE(f.metadata().at("format") == "hoprag.checkpoint.v1");
    REQUIRE(f.metadata().at("config_hash") == train::config_hash(rc));
    REQUIRE(f.find("param.w1") != nullptr);
    REQUIRE(f.find("adamw.v.b1") != nullptr);
    REQUIRE(f.tensors().size() == 12);
    // no temporary file is left next to it
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(d)) ++n;
    REQUIRE(n == 1);
}

TEST_CASE("checkpoint with its parameters in a sibling file: saved once, loaded bit exact", "[train][checkpoint]") {
    const auto d = fresh_dir("ckpt-params-in");
    const run_config rc;
    const auto c = sample(rc);
    // the sibling file (as a PEFT adapter file would be): the parameters under their own names,
    // w1 flattened to show that only the element count must agree
    std::vector<io::safetensors_entry> entries;
    for (const auto& t : c.params)
        entries.push_back({t.name, io::st_dtype::f32, t.name == "w1" ? shape{21} : t.dims, std::as_bytes(std::span<const float>(t.data))});
    io::write_safetensors(d / "weights.safetensors", entries);
    const auto path = d / "checkpoint.safetensors";
    train::save_checkpoint(path, c, "weights.safetensors");
    const io::safetensors_file f(path);
    REQUIRE(f.metadata().at("params_in") == "weights.safetensors");
    REQUIRE(f.find("param.w1") == nullptr);
    REQUIRE(f.tensors().size() == 8);  // the moments only
    const auto specs = specs_of(c);
    const auto r = train::load_checkpoint(path, specs, train::config_to_json(rc));
    require_same_bits(r.params, c.params);
    require_same_bits(r.adam_m, c.adam_m);
    REQUIRE(r.state.step == 123);
    fs::remove(d / "weights.safetensors");
    REQUIRE_THROWS_AS(train::load_checkpoint(path, specs, train::config_to_json(rc)), io_error);
}

TEST_CASE("checkpoint load validates names, shapes, config and format", "[train][checkpoint]") {
    const auto d = fresh_dir("ckpt-validate");
    run_config rc;
    const auto c = sample(rc);
    const auto path = d / "c.safetensors";
    train::save_checkpoint(path, c);
    auto specs = specs_of(c);
    const auto cfg = train::config_to_json(rc);

    SECTION("shape mismatch names the tensor and both shapes") {
        specs[0].dims = {3, 7};
        REQUIRE_THROWS_AS(train::load_checkpoint(path, specs, cfg), shape_error);
        REQUIRE_THROWS_WITH(train::load_checkpoint(path, specs, cfg),
                            Catch::Contains("param.w1") && Catch::Contains("[7, 3]") && Catch::Contains("[3, 7]"));
    }
    SECTION("a tensor the model lacks is refused") {
        specs.pop_back();
        REQUIRE_THROWS_WITH(train::load_checkpoint(path, specs, cfg), Catch::Contains("'param.s'") && Catch::Contains("not a trainable"));
    }
    SECTION("a tensor the checkpoint lacks is refused") {
        specs.push_back({"w2", {2}});
        REQUIRE_THROWS_WITH(train::load_checkpoint(path, specs, cfg), Catch::Contains("param.w2") && Catch::Contains("missing"));
    }
    SECTION("a different config is a config_error naming the key, unless allowed") {
        rc.optim.lr = 0.5;
        const auto other = train::config_to_json(rc);
        REQUIRE_THROWS_AS(train::load_checkpoint(path, specs, other), config_error);
        REQUIRE_THROWS_WITH(train::load_checkpoint(path, specs, other), Catch::Contains("optim") && Catch::Contains("0.5"));
        const auto r = train::load_checkpoint(path, specs, other, {.allow_config_change = true});
        REQUIRE(r.config == cfg);
    }
    SECTION("moments are required unless asked otherwise") {
        auto p = c;
        p.adam_m.clear();
        p.adam_v.clear();
        const auto path2 = d / "params-only.safetensors";
        train::save_checkpoint(path2, p);
        REQUIRE_THROWS_WITH(train::load_checkpoint(path2, specs, cfg), Catch::Contains("adamw.m.w1"));
        const auto r = train::load_checkpoint(path2, specs, cfg, {.require_optimizer = false});
        REQUIRE(r.adam_m.empty());
        require_same_bits(r.params, c.params);
    }
    SECTION("moments that do not match the parameters are refused before writing") {
        auto p = c;
        p.adam_v.pop_back();
        REQUIRE_THROWS_AS(train::save_checkpoint(d / "bad.safetensors", p), shape_error);
        REQUIRE_FALSE(fs::exists(d / "bad.safetensors"));
    }
    SECTION("a safetensors file that is not a checkpoint is a format_error") {
        const float x = 1.0f;
        const io::safetensors_entry e{"x", io::st_dtype::f32, {1}, std::as_bytes(std::span<const float>(&x, 1))};
        io::write_safetensors(d / "plain.safetensors", std::span<const io::safetensors_entry>(&e, 1));
        REQUIRE_THROWS_AS(train::load_checkpoint(d / "plain.safetensors", specs, cfg), format_error);
    }
    SECTION("a truncated checkpoint is a format_error, never a crash") {
        const auto size = fs::file_size(path);
        fs::resize_file(path, size - 5);
        REQUIRE_THROWS_AS(train::load_checkpoint(path, specs, cfg), format_error);
    }
}

TEST_CASE("a full disk during a save leaves the previous checkpoint intact", "[train][checkpoint]") {
    const auto d = fresh_dir("ckpt-full");
    const run_config rc;
    auto c = sample(rc);
    c.params[0] = random_tensor("w1", {256, 300}, 5);  // ~300 KB per tensor: more than the limit below
    c.adam_m[0] = random_tensor("w1", {256, 300}, 6);
    c.adam_v[0] = random_tensor("w1", {256, 300}, 7);
    const auto path = d / "latest.safetensors";
    auto small = sample(rc);
    train::save_checkpoint(path, small);  // the previous good checkpoint
    const auto before = fs::file_size(path);
    REQUIRE(before < 64 * 1024);

    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {  // child: a 64 KB file-size limit plays the full disk
        ::close(fds[0]);
        std::signal(SIGXFSZ, SIG_IGN);
        rlimit lim{64 * 1024, 64 * 1024};
        ::setrlimit(RLIMIT_FSIZE, &lim);
        std::string msg = "no error";
        try {
            train::save_checkpoint(path, c);
        } catch (const io_error& e) {
            msg = std::string("io_error: ") + e.what();
        } catch (const std::exception& e) {
            msg = std::string("other: ") + e.what();
        }
        [[maybe_unused]] auto w = ::write(fds[1], msg.data(), msg.size());
        ::close(fds[1]);
        ::_exit(0);
    }
    ::close(fds[1]);
    std::string msg;
    char buf[512];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) msg.append(buf, static_cast<std::size_t>(n));
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    INFO(msg);
    REQUIRE(msg.rfind("io_error: ", 0) == 0);
    REQUIRE(msg.find("latest.safetensors") != std::string::npos);
    REQUIRE(msg.find("File too large") != std::string::npos);
    // previous checkpoint still there, same size, loads and holds the old values; no temp file left
    REQUIRE(fs::file_size(path) == before);
    const auto r = train::load_checkpoint(path, specs_of(small), train::config_to_json(rc));
    require_same_bits(r.params, small.params);
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(d)) ++n;
    REQUIRE(n == 1);
}
