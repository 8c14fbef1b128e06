// train::run_training with a toy task (a host-side vector w pulled towards a target by plain
// gradient steps with momentum-free "moments" that count updates): evaluation at every eval_steps
// multiple and at the natural end (once per step), the best metric and on_best, checkpoints every
// save_steps and at the end, a session stopped by --session-steps and resumed ends bit-identical
// to a straight run, a different config is refused on resume, and a non-finite step either stops
// the run (the last checkpoint intact) or is skipped (always for a task with loss_scale() > 0).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hoprag/train/artifact_store.hpp"
#include "hoprag/train/loop.hpp"
#include "support/files.hpp"

using namespace hoprag;
namespace fs = std::filesystem;

namespace {

struct toy_task {
    std::int64_t total = 10;
    std::int64_t nan_at = -1;            // step whose loss is NaN (-1: none)
    std::vector<float> w{0.0f, 0.0f};    // the parameters
    std::vector<float> m{0.0f, 0.0f};    // "first moments": a running count of updates
    std::vector<float> v{0.0f, 0.0f};    // "second moments": the last step's gradient
    std::vector<std::int64_t> evaluated_at, best_at;

    std::int64_t total_steps() const { return total; }
    std::vector<train::tensor_spec> specs() const { return {{"w", shape{2}}}; }
    train::task_tensors tensors() { return {{{"w", shape{2}, w}}, {{"w", shape{2}, m}}, {{"w", shape{2}, v}}}; }
    void restore(const train::task_tensors& t) { w = t.params.at(0).data, m = t.adam_m.at(0).data, v = t.adam_v.at(0).data; }
    train::step_outcome step(train::training_state& st) {
        ++st.data_position;
        double loss = 0;
        for (std::size_t i = 0; i < w.size(); ++i) loss += (w[i] - 3.0) * (w[i] - 3.0);
        if (st.step + 1 == nan_at) return {.loss = NAN, .finite = false};
        for (std::size_t i = 0; i < w.size(); ++i) {
            v[i] = 2.0f * (w[i] - 3.0f);
            w[i] -= 0.1f * v[i] * (1.0f + 0.5f * static_cast<float>(i));
            m[i] += 1.0f;
        }
        ++st.step;
        return {.loss = loss, .values = {{"lr", 0.1}}};
    }
    train::metric_values evaluate(const train::training_state& st) {
        evaluated_at.push_back(st.step);
        // rises, then falls after step 6: the best is at step 6
        return {{"eval_score", st.step <= 6 ? double(st.step) : 12.0 - double(st.step)}};
    }
    void on_best(const train::training_state& st) { best_at.push_back(st.step); }
};
static_assert(train::training_task<toy_task>);

train::loop_options options(const fs::path& out) {
    return {.out = out, .artifact = "toy", .best_metric = "eval_score", .save_steps = 4, .eval_steps = 3, .log = nullptr};
}

const nlohmann::ordered_json config{{"lr", 0.1}};

}  // namespace

TEST_CASE("run_training: evaluation cadence, best metric, saves and the result", "[train][loop]") {
    const auto d = test::fresh_dir("loop-basic");
    toy_task t;
    const auto r = train::run_training(t, options(d / "a"), config);
    CHECK(r.at("steps") == 10);
    CHECK(r.at("stopped") == "max_steps");
    CHECK(t.evaluated_at == std::vector<std::int64_t>{3, 6, 9, 10});
    CHECK(t.best_at == std::vector<std::int64_t>{3, 6});
    CHECK(r.at("best_eval_score") == 6.0);
    const train::artifact_store store(d / "a" / "artifacts");
    CHECK(store.versions("toy") == std::vector<std::int64_t>{0, 1, 2});  // steps 4, 8 and the end (10)
    CHECK(store.resolve("toy", "latest").manifest["step"] == 10);
    CHECK(store.resolve("toy", "best").manifest["step"] == 8);  // eval_score 6 was the last evaluation before the save at 8
    const auto lines = test::lines_of(d / "a" / "metrics.jsonl");
    CHECK(lines.size() == 10 + 4);
    std::size_t steps = 0;
    for (const auto& l : lines) {
        const auto j = nlohmann::json::parse(l);
        if (!j.contains("loss")) continue;  // evaluation lines
        ++steps;
        CHECK(j.at("steps_per_s").get<double>() > 0);
        CHECK(j.at("host_peak_rss_mib").get<double>() > 1.0);  // a running test binary holds more than 1 MiB
    }
    CHECK(steps == 10);
}

TEST_CASE("run_training: a session stopped by session_steps and resumed equals a straight run", "[train][loop]") {
    const auto d = test::fresh_dir("loop-resume");
    toy_task straight;
    const auto a = train::run_training(straight, options(d / "a"), config);
    auto o = options(d / "b");
    o.session_steps = 5;
    toy_task first;
    const auto b1 = train::run_training(first, o, config);
    CHECK(b1.at("stopped") == "session_steps");
    CHECK(b1.at("steps") == 5);
    o.resume = true;
    toy_task second;
    const auto b2 = train::run_training(second, o, config);
    CHECK(b2.at("steps") == 10);
    CHECK(second.w == straight.w);
    CHECK(second.m == straight.m);
    CHECK(b2.at("final_loss") == a.at("final_loss"));
    CHECK(b2.at("best_eval_score") == a.at("best_eval_score"));
    // a changed config is refused on resume, naming the key
    toy_task third;
    REQUIRE_THROWS_WITH(train::run_training(third, o, nlohmann::ordered_json{{"lr", 0.2}}), Catch::Contains("lr"));
}

TEST_CASE("run_training: a non-finite step stops the run or is skipped", "[train][loop]") {
    const auto d = test::fresh_dir("loop-nan");
    toy_task stop;
    stop.nan_at = 6;
    REQUIRE_THROWS_WITH(train::run_training(stop, options(d / "s"), config), Catch::Contains("step 6") && Catch::Contains("toy:v0"));
    const train::artifact_store store(d / "s" / "artifacts");
    CHECK(store.resolve("toy", "latest").manifest["step"] == 4);
    toy_task skip;
    skip.nan_at = 6;
    auto o = options(d / "k");
    o.skip_nonfinite = true;
    const auto r = train::run_training(skip, o, config);
    CHECK(r.at("steps") == 10);
    CHECK(r.at("skipped_steps") == 1);
    CHECK(skip.m[0] == 9.0f);  // 10 steps, one skipped
}

namespace {
/// The toy task scaling its loss dynamically (a mixed-precision trainer): it records the scale
/// the loop hands it at its first step.
struct scaled_toy_task : toy_task {
    float first_scale = 0;
    double loss_scale() const { return 4096.0; }
    train::step_outcome step(train::training_state& st) {
        if (first_scale == 0) first_scale = st.scaler.scale;
        return toy_task::step(st);
    }
};
}  // namespace

TEST_CASE("run_training: a task that scales its loss starts the scaler at its scale and has non-finite steps skipped", "[train][loop]") {
    const auto d = test::fresh_dir("loop-scaled");
    scaled_toy_task t;
    t.nan_at = 3;
    const auto o = options(d / "s");  // skip_nonfinite off, initial_loss_scale the default 65536
    REQUIRE_FALSE(o.skip_nonfinite);
    const auto r = train::run_training(t, o, config);
    CHECK(t.first_scale == 4096.0f);
    CHECK(r.at("steps") == 10);
    CHECK(r.at("skipped_steps") == 1);
}
