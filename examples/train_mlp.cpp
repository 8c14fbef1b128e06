// hoprag-train-mlp: the reference trainer of the training infrastructure. It trains the 2-layer
// MLP classifier on synthetic data (models/mlp/train_task.hpp) with the one training loop
// (train/loop.hpp): --config YAML with flags overriding it, --out run folder, --resume from the
// artifact store's `latest`, a session budget (--time-limit, SIGTERM/SIGINT: finish the step,
// save, exit 0, print how to resume), metrics JSONL and TensorBoard, checkpoints every
// --save-steps as versions of "mlp-checkpoint" (latest, best by eval accuracy), NaN handling
// (--nan-policy skip|stop) and one JSON object as the last line of stdout.
#include <array>
#include <iostream>
#include <string>
#include <string_view>

#include "device_flag.hpp"
#include "hoprag/models/mlp/train_task.hpp"
#include "hoprag/train/config_json.hpp"
#include "hoprag/train/loop.hpp"
#include "train_options.hpp"

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
  --eval-steps N        evaluate every N steps (and at the end)            [25]
  --time-limit D        stop cleanly before D has passed (12h, 90m, 45s; or HOPRAG_TIME_LIMIT)
  --device D            cpu|cuda|auto (auto: cuda when a GPU is present)   [auto]
  --profile P           cpu|t4|a100|h100|auto; this example trains on the CPU backend  [auto]
  --lr X  --warmup-steps N  --schedule-steps N  --weight-decay X  --max-grad-norm X
  --batch N  --inputs N  --hidden N  --classes N  --train-examples N  --eval-examples N
  --tensorboard B       true|false: also write TensorBoard event files to DIR/tb  [true]
  --no-tensorboard      same as --tensorboard false
  --wandb PROJECT       mirror metrics and checkpoints to this Weights & Biases project with the
                        wandb CLI when it is on PATH; otherwise an offline run folder plus
                        DIR/wandb-offline/upload.sh (the log line says which)  [off]
  --keep-last K         artifact retention: keep the last K checkpoints plus best  [3]
  --nan-policy P        skip|stop: what a non-finite loss does              [stop]
  --inject-nan-step N   (testing) feed a NaN input at step N
  --step-sleep-ms N     (testing) sleep N ms per step
  --help                show this text
Exit status: 0 done or stopped cleanly (resumable), 1 error (one line on stderr), 2 bad usage.
Last stdout line: {"steps":..,"final_loss":..,"best_eval_acc":..,"artifact":"mlp-checkpoint:vN",...})";

/// Run control: may change between a run and its resumption.
struct run_config {
    std::string out;
    bool resume = false, tensorboard = true;
    std::int64_t max_steps = 200, save_steps = 50, eval_steps = 25, keep_last = 3;
    std::string time_limit, profile = "auto", device = "auto";
    std::int64_t inject_nan_step = -1, step_sleep_ms = 0;
    std::string wandb;
    static constexpr std::array<std::string_view, 13> field_names{"out",       "resume",     "tensorboard", "max_steps", "save_steps",      "eval_steps",
                                                                  "keep_last", "time_limit", "profile",     "device",    "inject_nan_step", "step_sleep_ms",
                                                                  "wandb"};
};

using train_cli::usage_error;

int run(int argc, char** argv) {
    mlp::train_config tc;
    run_config rc;
    train_cli::parse_config_and_flags(argc, argv, tc, rc);
    if (rc.out.empty()) throw usage_error("--out DIR is required");
    if (rc.max_steps < 0 || rc.save_steps < 1 || rc.eval_steps < 1 || rc.keep_last < 1) throw usage_error("--max-steps >= 0, --save-steps, --eval-steps, --keep-last >= 1");
    try {
        mlp::validate(tc);
    } catch (const config_error& e) {
        throw usage_error(e.what());
    }
    if (rc.profile != "auto" && rc.profile != "cpu" && rc.profile != "t4" && rc.profile != "a100" && rc.profile != "h100")
        throw usage_error("--profile must be cpu, t4, a100, h100 or auto, got '" + rc.profile + "'");
    if (rc.profile != "auto" && rc.profile != "cpu")
        throw usage_error("--profile " + rc.profile + ": hoprag-train-mlp trains on the CPU backend only; use cpu or auto");
    return program::run_on_device("hoprag-train-mlp", rc.device, [&]<class Backend>() {
        mlp::train_task<Backend> task(tc, rc.max_steps, rc.inject_nan_step);
        const train::loop_options lo{.out = rc.out, .artifact = "mlp-checkpoint", .best_metric = "eval_acc", .base_model = "mlp",
                                     .resume = rc.resume, .tensorboard = rc.tensorboard, .keep_last = rc.keep_last,
                                     .save_steps = rc.save_steps, .eval_steps = rc.eval_steps, .time_limit = rc.time_limit,
                                     .skip_nonfinite = tc.nan_policy == "skip", .resume_hint = train::resume_command(argc, argv),
                                     .step_sleep_ms = rc.step_sleep_ms, .seed = static_cast<std::uint64_t>(tc.seed),
                                     .wandb_project = rc.wandb};
        std::cout << train::run_training(task, lo, train::config_to_json(tc)).dump() << std::endl;
        return 0;
    });
}

}  // namespace

int main(int argc, char** argv) {
    return program::guarded_main("hoprag-train-mlp", usage, [&] { return run(argc, argv); });
}
