// hoprag-train-mlp: the reference trainer of the training infrastructure. It trains the 2-layer
// MLP classifier (models/mlp) on synthetic data made deterministically from the seed and shows
// every trainer convention: --config YAML with flags overriding it, --out run folder, --resume from
// the artifact store's `latest`, AdamW + warm-up/cosine schedule + global-norm clipping, a
// session budget (--time-limit, SIGTERM/SIGINT: finish the step, save, exit 0, print how to
// resume), metrics JSONL and TensorBoard event files (DIR/tb, scalars + config/result text), checkpoints every --save-steps logged as versions of the artifact
// "mlp-checkpoint" (latest, best by eval accuracy), NaN-loss detection (skip the step or stop
// naming it) and one JSON object as the last line of stdout.
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "hoprag/backend/profile.hpp"
#include "hoprag/cpu/backend.hpp"
#include "hoprag/models/mlp/mlp.hpp"
#include "hoprag/train/adamw.hpp"
#include "hoprag/train/artifact_store.hpp"
#include "hoprag/train/checkpoint.hpp"
#include "hoprag/train/config_json.hpp"
#include "hoprag/train/gradients.hpp"
#include "hoprag/train/metrics_log.hpp"
#include "hoprag/train/schedule.hpp"
#include "hoprag/train/session_budget.hpp"
#include "hoprag/train/tensorboard.hpp"
#include "train_options.hpp"
#include "train_session.hpp"

namespace fs = std::filesystem;
using namespace hoprag;

namespace {

constexpr const char* usage = R"(usage: hoprag-train-mlp --out DIR [options]
Trains a 2-layer MLP classifier on synthetic data (deterministic from --seed).
  --config FILE.yaml    read options from YAML (keys as the flags without --, '-' or '_');
                        flags given on the command line override it
  --out DIR             run folder: metrics.jsonl, tb/ (TensorBoard), artifacts/ (checkpoints), required
  --resume              continue from the latest checkpoint in DIR/artifacts
  --seed S              random seed (data, init)                           [0]
  --max-steps N         stop after N optimiser steps in total              [200]
  --save-steps N        checkpoint every N steps (and at the end)          [50]
  --eval-steps N        evaluate every N steps                             [25]
  --time-limit D        stop cleanly before D has passed (12h, 90m, 45s; or HOPRAG_TIME_LIMIT)
  --profile P           cpu|t4|a100|h100|auto; this example trains on the CPU backend  [auto]
  --lr X  --warmup-steps N  --schedule-steps N  --weight-decay X  --max-grad-norm X
  --batch N  --inputs N  --hidden N  --classes N  --train-examples N  --eval-examples N
  --tensorboard B       true|false: also write TensorBoard event files to DIR/tb  [true]
  --no-tensorboard      same as --tensorboard false
  --keep-last K         artifact retention: keep the last K checkpoints plus best  [3]
  --nan-policy P        skip|stop: what a non-finite loss does              [stop]
  --inject-nan-step N   (testing) feed a NaN input at step N
  --step-sleep-ms N     (testing) sleep N ms per step
  --help                show this text
Exit status: 0 done or stopped cleanly (resumable), 1 error (one line on stderr), 2 bad usage.
Last stdout line: {"steps":..,"final_loss":..,"best_eval_acc":..,"artifact":"mlp-checkpoint:vN",...})";

/// What a checkpoint's config hash covers: everything that changes the numbers.
struct train_config {
    std::int64_t seed = 0;
    std::int64_t inputs = 16, hidden = 32, classes = 4, batch = 16;
    std::int64_t train_examples = 512, eval_examples = 128;
    double lr = 3e-3;
    std::int64_t warmup_steps = 10, schedule_steps = 1000;
    double weight_decay = 0.01, max_grad_norm = 1.0;
    std::string nan_policy = "stop";
    static constexpr std::array<std::string_view, 13> field_names{"seed",   "inputs",        "hidden",         "classes",      "batch",
                                                                  "train_examples", "eval_examples", "lr", "warmup_steps",
                                                                  "schedule_steps", "weight_decay",  "max_grad_norm", "nan_policy"};
};

/// Run control: may change between a run and its resumption.
struct run_config {
    std::string out;
    bool resume = false, tensorboard = true;
    std::int64_t max_steps = 200, save_steps = 50, eval_steps = 25, keep_last = 3;
    std::string time_limit, profile = "auto";
    std::int64_t inject_nan_step = -1, step_sleep_ms = 0;
    static constexpr std::array<std::string_view, 11> field_names{"out",       "resume",     "tensorboard", "max_steps",       "save_steps",   "eval_steps",
                                                                  "keep_last", "time_limit", "profile",     "inject_nan_step", "step_sleep_ms"};
};

using train_cli::usage_error;

void parse_args(int argc, char** argv, train_config& t, run_config& r) {
    train_cli::parse_config_and_flags(argc, argv, t, r);
    if (r.out.empty()) throw usage_error("--out DIR is required");
    if (r.max_steps < 0 || r.save_steps < 1 || r.eval_steps < 1 || r.keep_last < 1) throw usage_error("--max-steps >= 0, --save-steps, --eval-steps, --keep-last >= 1");
    if (t.batch < 1 || t.inputs < 1 || t.hidden < 1 || t.classes < 2 || t.train_examples < t.batch || t.eval_examples < 1)
        throw usage_error("need batch >= 1, inputs >= 1, hidden >= 1, classes >= 2, train_examples >= batch, eval_examples >= 1");
    if (t.nan_policy != "skip" && t.nan_policy != "stop") throw usage_error("--nan-policy must be skip or stop, got '" + t.nan_policy + "'");
    if (r.profile != "auto" && r.profile != "cpu" && r.profile != "t4" && r.profile != "a100" && r.profile != "h100")
        throw usage_error("--profile must be cpu, t4, a100, h100 or auto, got '" + r.profile + "'");
    if (r.profile != "auto" && r.profile != "cpu")
        throw usage_error("--profile " + r.profile + ": hoprag-train-mlp trains on the CPU backend only; use cpu or auto");
}

/// Synthetic classification data: x ~ N(0, 1), label = argmax of a fixed random linear teacher.
struct dataset {
    std::vector<float> x;         // [n, inputs]
    std::vector<std::int32_t> y;  // [n]
};

dataset make_data(const train_config& c, std::int64_t n, std::uint64_t stream) {
    dataset d{std::vector<float>(static_cast<std::size_t>(n * c.inputs)), std::vector<std::int32_t>(static_cast<std::size_t>(n))};
    const philox_stream xs{static_cast<std::uint64_t>(c.seed), stream}, teacher{static_cast<std::uint64_t>(c.seed), 50};
    for (std::size_t i = 0; i < d.x.size(); ++i) d.x[i] = xs.normal(i);
    for (std::int64_t e = 0; e < n; ++e) {
        double best = -INFINITY;
        for (std::int64_t k = 0; k < c.classes; ++k) {
            double s = 0.0;
            for (std::int64_t j = 0; j < c.inputs; ++j) s += d.x[static_cast<std::size_t>(e * c.inputs + j)] * teacher.normal(static_cast<std::uint64_t>(k * c.inputs + j));
            if (s > best) best = s, d.y[static_cast<std::size_t>(e)] = static_cast<std::int32_t>(k);
        }
    }
    return d;
}

/// The example order of epoch `epoch`: a Fisher-Yates shuffle driven by stream 1000 + epoch.
std::vector<std::int64_t> epoch_order(std::uint64_t seed, std::int64_t epoch, std::int64_t n) {
    std::vector<std::int64_t> o(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) o[static_cast<std::size_t>(i)] = i;
    const philox_stream r{seed, 1000 + static_cast<std::uint64_t>(epoch)};
    for (std::int64_t i = n - 1; i > 0; --i) std::swap(o[static_cast<std::size_t>(i)], o[r.bits(static_cast<std::uint64_t>(i)) % static_cast<std::uint64_t>(i + 1)]);
    return o;
}

struct nan_loss : hoprag::error {
    using hoprag::error::error;
};

int run(int argc, char** argv) {
    train_config tc;
    run_config rc;
    parse_args(argc, argv, tc, rc);
    const fs::path out = rc.out;
    fs::create_directories(out);
    const auto config_json = train::config_to_json(tc);
    const mlp::config mc{tc.inputs, tc.hidden, tc.classes};
    const std::vector<train::tensor_spec> specs{{"w1", {tc.inputs, tc.hidden}}, {"b1", {tc.hidden}}, {"w2", {tc.hidden, tc.classes}}, {"b2", {tc.classes}}};

    cpu::context ctx(static_cast<std::uint64_t>(tc.seed));
    auto params = mlp::allocate_parameters(ctx, mc);
    auto grads = mlp::allocate_parameters(ctx, mc);
    auto m = mlp::allocate_parameters(ctx, mc);
    auto v = mlp::allocate_parameters(ctx, mc);
    auto act = mlp::allocate_activations(ctx, mc, tc.batch);
    auto eval_act = mlp::allocate_activations(ctx, mc, tc.eval_examples);
    buffer<cpu::context, float> dlogits(ctx, static_cast<std::size_t>(tc.batch * tc.classes)), dhidden(ctx, static_cast<std::size_t>(tc.batch * tc.hidden));
    buffer<cpu::context, float> xb(ctx, static_cast<std::size_t>(tc.batch * tc.inputs));
    buffer<cpu::context, std::int32_t> yb(ctx, static_cast<std::size_t>(tc.batch));
    const dataset train_data = make_data(tc, tc.train_examples, 100), eval_data = make_data(tc, tc.eval_examples, 101);
    const buffer<cpu::context, float> eval_x(ctx, eval_data.x);
    const buffer<cpu::context, std::int32_t> eval_y(ctx, eval_data.y);

    train::artifact_store store(out / "artifacts", {.keep_last = rc.keep_last, .best_metric = "eval_acc"});
    const std::string artifact = "mlp-checkpoint";
    train::training_state st;
    st.rng_seed = static_cast<std::uint64_t>(tc.seed);
    double best_eval = NAN;
    std::string artifact_tag;
    if (rc.resume && !store.versions(artifact).empty()) {
        const auto av = store.resolve(artifact, "latest");
        const auto files = store.fetch(artifact, "latest", out / ".resume");
        const auto ck = train::load_checkpoint(files.at(0), specs, config_json);
        train::scatter_tensors(params, ck.params);
        train::scatter_tensors(m, ck.adam_m);
        train::scatter_tensors(v, ck.adam_v);
        st = ck.state;
        if (st.extra.contains("best_eval_acc") && st.extra["best_eval_acc"].is_number()) best_eval = st.extra["best_eval_acc"].get<double>();
        artifact_tag = av.tag();
        std::fprintf(stderr, "resumed from %s %s at step %lld\n", artifact.c_str(), av.tag().c_str(), static_cast<long long>(st.step));
    } else {
        if (rc.resume) std::fprintf(stderr, "--resume: no checkpoint in %s yet; starting fresh\n", (out / "artifacts").string().c_str());
        mlp::initialize(ctx, mc, params);
        for (auto* p : {&m, &v}) boost::pfr::for_each_field(*p, [&](auto& b) { zero_fill(ctx, b.data(), static_cast<std::int64_t>(b.size())); });
    }

    const auto tensors = mlp::adamw_tensors(params, m, v, grads);
    const train::adamw_hparams hp{.weight_decay = static_cast<float>(tc.weight_decay)};
    const train::warmup_cosine_lr sched(static_cast<float>(tc.lr), tc.warmup_steps, tc.schedule_steps, 0.1f);
    train_cli::run_session session(out, rc.tensorboard, rc.time_limit, st.step, config_json);

    // the loss of the last step trained, carried by checkpoints so a run resumed at its end still
    // reports it
    double last_loss = st.extra.contains("last_loss") && st.extra["last_loss"].is_number() ? st.extra["last_loss"].get<double>() : NAN;
    const auto save = [&] {
        const auto t0 = std::chrono::steady_clock::now();
        train::checkpoint ck{train::gather_tensors(params, specs), train::gather_tensors(m, specs), train::gather_tensors(v, specs), st, config_json};
        ck.state.extra["best_eval_acc"] = std::isfinite(best_eval) ? nlohmann::json(best_eval) : nlohmann::json();
        ck.state.extra["last_loss"] = std::isfinite(last_loss) ? nlohmann::json(last_loss) : nlohmann::json();
        const auto file = out / "checkpoint.safetensors";
        train::save_checkpoint(file, ck);
        train::artifact_metadata meta;
        meta.step = st.step;
        meta.base_model = "mlp";
        meta.config_hash = train::config_hash(config_json);
        if (ck.state.extra.contains("last_eval_acc")) meta.metrics["eval_acc"] = ck.state.extra["last_eval_acc"].get<double>();
        const auto av = store.log(artifact, {file}, meta);
        fs::remove(file);
        session.sync();
        artifact_tag = av.tag();
        session.budget.record_save(std::chrono::steady_clock::now() - t0);
    };

    std::string stop = "max_steps";
    std::int64_t saved_at = rc.resume ? st.step : -1;
    const std::int64_t n_batches = tc.train_examples / tc.batch;
    std::vector<float> hx(static_cast<std::size_t>(tc.batch * tc.inputs));
    std::vector<std::int32_t> hy(static_cast<std::size_t>(tc.batch));
    while (st.step < rc.max_steps) {
        if (const auto why = session.budget.check(); why != train::stop_reason::none) {
            stop = why == train::stop_reason::signal ? "signal" : "deadline";
            break;
        }
        const auto t0 = std::chrono::steady_clock::now();
        if (st.data_position >= n_batches) {
            ++st.epoch;
            st.data_position = 0;
        }
        const auto order = epoch_order(st.rng_seed, st.epoch, tc.train_examples);
        st.rng_counter = 1000 + static_cast<std::uint64_t>(st.epoch) + 1;  // next unused shuffle stream
        for (std::int64_t b = 0; b < tc.batch; ++b) {
            const auto e = order[static_cast<std::size_t>(st.data_position * tc.batch + b)];
            std::copy_n(train_data.x.begin() + e * tc.inputs, tc.inputs, hx.begin() + b * tc.inputs);
            hy[static_cast<std::size_t>(b)] = train_data.y[static_cast<std::size_t>(e)];
        }
        if (st.step + 1 == rc.inject_nan_step) hx[0] = NAN;
        ++st.data_position;
        xb.assign(hx);
        yb.assign(hy);
        mlp::zero(ctx, grads);
        mlp::forward(ctx, mc, params, act, xb.data(), yb.data(), tc.batch);
        double loss = 0.0;
        for (float l : act.loss.to_host()) loss += l;
        loss /= static_cast<double>(tc.batch);
        const std::int64_t step_no = st.step + 1;
        if (!std::isfinite(loss)) {
            if (tc.nan_policy == "stop")
                throw nan_loss("loss is " + std::to_string(loss) + " at step " + std::to_string(step_no) +
                               "; stopping without saving it (the last checkpoint is " + (artifact_tag.empty() ? "none" : artifact + ":" + artifact_tag) + ")");
            ++st.scaler.skipped_steps;
            std::fprintf(stderr, "step %lld: loss is %f; step skipped (weights unchanged)\n", static_cast<long long>(step_no), loss);
            session.log(step_no, {{"loss", loss}, {"skipped", 1.0}});
            ++st.step;  // the batch is consumed; the optimiser's t does not advance
            continue;
        }
        mlp::backward(ctx, mc, params, act, grads, dlogits, dhidden, xb.data(), yb.data(), tc.batch, tc.batch);
        const auto rep = train::inspect_grads(ctx, std::span<const train::adamw_tensor>(tensors), 1.0f, tc.max_grad_norm);
        if (!rep.finite) {
            if (tc.nan_policy == "stop") throw nan_loss("gradients are not finite at step " + std::to_string(step_no) + "; stopping");
            ++st.scaler.skipped_steps;
            ++st.step;
            continue;
        }
        const float lr = sched.lr(st.step - st.scaler.skipped_steps);
        adamw_update(ctx, std::span<const train::adamw_tensor>(tensors), train::make_adamw_step(hp, st.step - st.scaler.skipped_steps + 1, lr, rep.grad_scale));
        ++st.step;
        last_loss = loss;
        session.log(st.step, {{"loss", loss}, {"lr", lr}, {"grad_norm", rep.norm}});
        if (rc.step_sleep_ms > 0) ::usleep(static_cast<useconds_t>(rc.step_sleep_ms * 1000));
        session.budget.record_step(std::chrono::steady_clock::now() - t0);
        if (st.step % rc.eval_steps == 0) {
            mlp::forward(ctx, mc, params, eval_act, eval_x.data(), eval_y.data(), tc.eval_examples);
            const auto logits = eval_act.logits.to_host();
            std::int64_t right = 0;
            for (std::int64_t e = 0; e < tc.eval_examples; ++e) {
                const auto* row = logits.data() + e * tc.classes;
                right += std::max_element(row, row + tc.classes) - row == eval_data.y[static_cast<std::size_t>(e)];
            }
            const double acc = static_cast<double>(right) / static_cast<double>(tc.eval_examples);
            if (!(acc <= best_eval)) best_eval = acc;
            st.extra["last_eval_acc"] = acc;
            session.log(st.step, {{"eval_acc", acc}});
        }
        session.progress.print({st.step, rc.max_steps, loss});
        if (st.step % rc.save_steps == 0) {
            save();
            saved_at = st.step;
        }
    }
    session.progress.finish();
    if (saved_at != st.step) save();
    nlohmann::ordered_json res{{"steps", st.step},
                               {"final_loss", std::isfinite(last_loss) ? nlohmann::ordered_json(last_loss) : nlohmann::ordered_json()},
                               {"best_eval_acc", std::isfinite(best_eval) ? nlohmann::ordered_json(best_eval) : nlohmann::ordered_json()},
                               {"artifact", artifact + ":" + artifact_tag},
                               {"skipped_steps", st.scaler.skipped_steps},
                               {"stopped", stop}};
    return session.finish(stop, "max_steps", st.step, res, argc, argv);
}

}  // namespace

int main(int argc, char** argv) {
    return program::guarded_main("hoprag-train-mlp", usage, [&] { return run(argc, argv); });
}
