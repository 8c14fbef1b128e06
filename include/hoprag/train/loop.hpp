// The one training loop every trainer runs (hoprag-train-mlp, -reranker, -generator). A task
// (the `training_task` concept) owns its model, optimiser and data and knows how to take one
// optimiser step, evaluate on held-out data and copy its trainable tensors and AdamW moments to and
// from the host. `run_training` owns everything around that: resume from the artifact store's
// `latest`, the session time budget and SIGTERM/SIGINT (finish the step, save, stop), the stop
// after --max-steps / --session-steps, evaluation every N steps and at the natural end, the best
// metric, checkpoints every N steps and at the end as artifact versions (`latest`, `best`),
// DIR/metrics.jsonl and TensorBoard events (each step adds steps_per_s and host_peak_rss_mib to the
// task's values), the progress line and the run's result object; with `wandb_project` also the
// W&B mirror of train/wandb.hpp (each saved version, and the TensorBoard events at the end).
// Checkpoints hold the task's tensors, its moments and `training_state` (train/checkpoint.hpp) in
// the artifact's file checkpoint.safetensors, beside whatever files the task adds (a PEFT folder).
#pragma once

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "hoprag/core/error.hpp"
#include "hoprag/core/host_memory.hpp"
#include "hoprag/train/artifact_store.hpp"
#include "hoprag/train/checkpoint.hpp"
#include "hoprag/train/config_json.hpp"
#include "hoprag/train/metrics_log.hpp"
#include "hoprag/train/session_budget.hpp"
#include "hoprag/train/tensorboard.hpp"
#include "hoprag/train/wandb.hpp"

namespace hoprag::train {

/// Named scalars logged at one step (loss, lr, grad_norm, eval_f1, ...).
using metric_values = std::vector<std::pair<std::string, double>>;

/// What one optimiser step did. `finite` false: the loss or the gradients were not finite and the
/// task applied no update (its data position may have advanced); the loop then stops or skips.
struct step_outcome {
    double loss = NAN;          // mean training loss of the step
    bool finite = true;
    metric_values values;       // logged after "loss" (lr, grad_norm, throughput, ...)
    double tokens_per_s = -1.0; // shown on the progress line (negative: not shown)
};

/// The host copies a checkpoint holds: parameters and AdamW moments, same names and shapes.
struct task_tensors {
    std::vector<named_tensor> params, adam_m, adam_v;
};

/// Host copies of a task's tensors: `each(f)` calls f(param, first moment, second moment) for
/// every trainable tensor (backend buffers) in the order of `specs`.
template <class Each>
task_tensors copy_to_host(const std::vector<tensor_spec>& specs, Each&& each) {
    task_tensors t;
    std::size_t i = 0;
    each([&](const auto& p, const auto& m, const auto& v) {
        const auto& s = specs.at(i++);
        t.params.push_back({s.name, s.dims, p.to_host()});
        t.adam_m.push_back({s.name, s.dims, m.to_host()});
        t.adam_v.push_back({s.name, s.dims, v.to_host()});
    });
    return t;
}

/// The reverse of copy_to_host: the host copies `t` (validated against the specs by
/// load_checkpoint) back into the buffers `each` visits, in the same order.
template <class Each>
void copy_from_host(const task_tensors& t, Each&& each) {
    std::size_t i = 0;
    each([&](auto& p, auto& m, auto& v) {
        p.assign(t.params.at(i).data), m.assign(t.adam_m.at(i).data), v.assign(t.adam_v.at(i).data);
        ++i;
    });
}

/// A trainer's task. `step(st)` takes one optimiser step from state `st` and advances st.step (and
/// its data position / epoch / RNG counters); `evaluate(st)` returns held-out metrics (empty: none);
/// `specs()` names the trainable tensors; `tensors()` copies them and their moments to the host
/// and `restore(t)` copies them back (same order). Optional members, used when present:
/// `write_files(dir)` adds files to a checkpoint version (e.g. a PEFT adapter folder),
/// `on_best(st)` runs when the best metric improves, `result()` adds keys to the result object,
/// `artifact_extra(st)` fills the version's metadata `extra`, `loss_scale()` > 0 says the task
/// scales its loss dynamically from that scale (mixed precision): the loop then starts the
/// scaler there and skips a non-finite step, whatever loop_options say.
template <class T>
concept training_task = requires(T& t, training_state& st, const task_tensors& saved) {
    { t.total_steps() } -> std::convertible_to<std::int64_t>;
    { t.step(st) } -> std::same_as<step_outcome>;
    { t.evaluate(std::as_const(st)) } -> std::same_as<metric_values>;
    { t.specs() } -> std::same_as<std::vector<tensor_spec>>;
    { t.tensors() } -> std::same_as<task_tensors>;
    { t.restore(saved) } -> std::same_as<void>;
};

/// How the loop runs and where it writes.
struct loop_options {
    std::filesystem::path out;             // run folder: metrics.jsonl, tb/, artifacts/
    std::string artifact = "checkpoint";   // artifact name of the checkpoints
    std::string best_metric = "eval_f1";   // a key of evaluate()'s values; larger is better
    std::string base_model;                // recorded with every version
    bool compress = true;                  // zlib-compress the stored files
    bool resume = false;                   // continue from `latest` (fresh start when there is none)
    bool tensorboard = true;               // also write TensorBoard events to out/tb
    std::int64_t keep_last = 3, save_steps = 50, eval_steps = 50;
    std::int64_t session_steps = 0;        // stop (saved, resumable) after this many steps in this session (0: off)
    std::string time_limit;                // "90m", ... or empty (then HOPRAG_TIME_LIMIT)
    bool skip_nonfinite = false;           // a non-finite step: true skips it, false stops the run
    std::string end_name = "max_steps";    // the result's "stopped" when the task's steps are done
    std::string resume_hint;               // the command that resumes this run (printed on an early stop)
    std::int64_t step_sleep_ms = 0;        // (testing) sleep per step
    std::uint64_t seed = 0;                // training_state::rng_seed of a fresh run
    float initial_loss_scale = 65536.0f;   // training_state::scaler.scale of a fresh run (for tasks that scale the loss)
    std::FILE* log = stderr;               // progress and messages (nullptr: silent)
    std::string wandb_project;             // mirror metrics and artifacts to this W&B project (train/wandb.hpp; empty: off)
};

namespace detail {

inline nlohmann::ordered_json number_or_null(double x) { return std::isfinite(x) ? nlohmann::ordered_json(x) : nlohmann::ordered_json(); }

inline double extra_number(const training_state& st, const std::string& key) {
    return st.extra.contains(key) && st.extra[key].is_number() ? st.extra[key].get<double>() : NAN;
}

}  // namespace detail

/// Runs `task` under `o` with the config `config` (hashed into every checkpoint; a resume with a
/// different one is refused naming the keys). Returns the result object {steps, final_loss,
/// best_<metric>, artifact, stopped, epoch, skipped_steps, ...task's result()}; the caller prints
/// it. Throws hoprag::error on a non-finite step unless `skip_nonfinite` (the last checkpoint
/// stays as it was), and what the task, the store or the checkpoint reader throw.
template <training_task Task>
nlohmann::ordered_json run_training(Task& task, const loop_options& o, const nlohmann::ordered_json& config) {
    namespace fs = std::filesystem;
    const auto say = [&](const std::string& s) {
        if (o.log) std::fprintf(o.log, "%s\n", s.c_str());
    };
    fs::create_directories(o.out);
    artifact_store store(o.out / "artifacts", {.keep_last = o.keep_last, .best_metric = o.best_metric, .compress = o.compress});
    const std::string best_key = "best_" + o.best_metric;
    bool skip_nonfinite = o.skip_nonfinite;
    float initial_scale = o.initial_loss_scale;
    if constexpr (requires { task.loss_scale(); })
        if (const double s = task.loss_scale(); s > 0) skip_nonfinite = true, initial_scale = static_cast<float>(s);
    training_state st;
    st.rng_seed = o.seed;
    st.scaler.scale = initial_scale;
    std::string tag;
    if (o.resume && !store.versions(o.artifact).empty()) {
        const auto av = store.resolve(o.artifact, "latest");
        const auto dir = o.out / ".resume";
        fs::remove_all(dir);
        store.fetch(o.artifact, "latest", dir);
        const auto ck = load_checkpoint(dir / "checkpoint.safetensors", task.specs(), config);
        task.restore({ck.params, ck.adam_m, ck.adam_v});
        st = ck.state;
        fs::remove_all(dir);
        tag = av.tag();
        say("resumed from " + o.artifact + " " + tag + " at step " + std::to_string(st.step));
    } else if (o.resume) {
        say("--resume: no checkpoint in " + (o.out / "artifacts").string() + " yet; starting fresh");
    }
    double best = detail::extra_number(st, best_key), last_loss = detail::extra_number(st, "last_loss");

    metrics_writer metrics((o.out / "metrics.jsonl").string());
    std::optional<tensorboard_writer> tb;
    if (o.tensorboard) {
        tb.emplace(o.out / "tb");
        if (st.step > 0) tb->add_session_start(st.step + 1);
        tb->add_text(st.step, "config", "```\n" + config.dump(2) + "\n```");
    }
    const auto log_values = [&](std::int64_t step, const metric_values& v) {
        metrics.write(step, v);
        if (tb) tb->add_scalars(step, v);
    };
    std::optional<wandb_mirror> wandb;
    if (!o.wandb_project.empty()) {
        wandb.emplace(o.wandb_project, o.out);
        say(wandb->status_line());
    }
    session_budget budget = session_budget::from_flag_or_env(o.time_limit);
    stop_signal_guard guard;
    std::optional<progress_printer> progress;
    if (o.log) progress.emplace(o.log);

    const auto save = [&] {
        const auto t0 = std::chrono::steady_clock::now();
        const auto dir = o.out / (".staging-" + o.artifact);
        fs::remove_all(dir);
        fs::create_directories(dir);
        auto t = task.tensors();
        checkpoint ck{std::move(t.params), std::move(t.adam_m), std::move(t.adam_v), st, config};
        ck.state.extra[best_key] = detail::number_or_null(best);
        ck.state.extra["last_loss"] = detail::number_or_null(last_loss);
        std::string params_in;  // a task whose files hold its parameters saves them once
        if constexpr (requires { Task::params_file; }) params_in = Task::params_file;
        save_checkpoint(dir / "checkpoint.safetensors", ck, params_in);
        if constexpr (requires { task.write_files(dir); }) task.write_files(dir);
        artifact_metadata meta;
        meta.step = st.step;
        meta.base_model = o.base_model;
        meta.config_hash = config_hash(config);
        for (const auto& [k, v] : st.extra.items())
            if (k.rfind("last_eval_", 0) == 0 && v.is_number()) meta.metrics[k.substr(5)] = v.template get<double>();
        if constexpr (requires { task.artifact_extra(std::as_const(st)); }) meta.extra = task.artifact_extra(std::as_const(st));
        std::vector<fs::path> files;
        for (const auto& e : fs::directory_iterator(dir)) files.push_back(e.path());
        std::sort(files.begin(), files.end());
        const auto version = store.log(o.artifact, files, meta);
        tag = version.tag();
        fs::remove_all(dir);
        metrics.sync();
        if (tb) tb->sync();
        if (wandb) say(wandb->artifact(version));
        budget.record_save(std::chrono::steady_clock::now() - t0);
    };
    std::int64_t evaluated_at = -1;
    const auto evaluate = [&] {
        if (evaluated_at == st.step) return;
        evaluated_at = st.step;
        const auto values = task.evaluate(std::as_const(st));
        if (values.empty()) return;
        for (const auto& [k, v] : values) st.extra["last_" + k] = v;
        const double m = detail::extra_number(st, "last_" + o.best_metric);
        if (std::isfinite(m) && !(m <= best)) {
            best = m;
            if constexpr (requires { task.on_best(std::as_const(st)); }) task.on_best(std::as_const(st));
        }
        log_values(st.step, values);
    };

    const std::int64_t total = task.total_steps(), session_start = st.step;
    std::string stop = o.end_name;
    std::int64_t saved_at = tag.empty() ? -1 : st.step;
    const auto t_start = std::chrono::steady_clock::now();
    while (st.step < total) {
        if (const auto why = budget.check(); why != stop_reason::none) {
            stop = why == stop_reason::signal ? "signal" : "deadline";
            break;
        }
        if (o.session_steps > 0 && st.step - session_start >= o.session_steps) {
            stop = "session_steps";
            break;
        }
        const auto t0 = std::chrono::steady_clock::now();
        auto r = task.step(st);
        if (!r.finite) {
            const std::string at = "step " + std::to_string(st.step + 1);
            if (!skip_nonfinite)
                throw hoprag::error("loss or gradients are not finite at " + at + "; stopping without saving it (the last checkpoint is " +
                                    (tag.empty() ? std::string("none") : o.artifact + ":" + tag) + ")");
            ++st.scaler.skipped_steps;
            ++st.step;  // the data is consumed; the optimiser's t does not advance
            say(at + ": loss is " + std::to_string(r.loss) + "; step skipped (weights unchanged)");
            log_values(st.step, {{"loss", r.loss}, {"skipped", 1.0}});
            continue;
        }
        last_loss = r.loss;
        metric_values v{{"loss", r.loss}};
        v.insert(v.end(), r.values.begin(), r.values.end());
        const double step_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        v.emplace_back("steps_per_s", step_s > 0 ? 1.0 / step_s : 0.0);
        v.emplace_back("host_peak_rss_mib", host_peak_rss_mib());
        log_values(st.step, v);
        if (o.step_sleep_ms > 0) ::usleep(static_cast<useconds_t>(o.step_sleep_ms * 1000));
        budget.record_step(std::chrono::steady_clock::now() - t0);
        if (st.step % o.eval_steps == 0 || st.step == total) evaluate();
        if (progress) {
            const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
            progress->print({st.step, total, r.loss, r.tokens_per_s, secs / double(st.step - session_start) * double(total - st.step)});
        }
        if (st.step % o.save_steps == 0) save(), saved_at = st.step;
    }
    if (progress) progress->finish();
    if (stop == o.end_name) evaluate();
    if (saved_at != st.step) save();

    nlohmann::ordered_json res{{"steps", st.step},
                               {"final_loss", detail::number_or_null(last_loss)},
                               {best_key, detail::number_or_null(best)},
                               {"artifact", o.artifact + ":" + tag},
                               {"epoch", st.epoch},
                               {"skipped_steps", st.scaler.skipped_steps}};
    if constexpr (requires { task.result(); }) {
        const auto extra = task.result();  // named: items() must not outlive it
        for (const auto& [k, v] : extra.items()) res[k] = v;
    }
    res["stopped"] = stop;
    if (stop != o.end_name && o.log)
        std::fprintf(o.log, "stopped (%s) at step %lld after saving; resume with:\n  %s\n", stop.c_str(), static_cast<long long>(st.step),
                     o.resume_hint.c_str());
    if (tb) {
        tb->add_text(st.step, "result", "```\n" + res.dump(2) + "\n```");
        tb->sync();
    }
    if (wandb) {
        say(wandb->finish());
        res["wandb"] = wandb->online() ? "online" : "offline";
    }
    return res;
}

}  // namespace hoprag::train
