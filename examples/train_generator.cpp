// hoprag-train-generator: QLoRA fine-tuning of generator<nf4, lora<16, 32, all-linear>> on
// HotpotQA bundles with cited targets: components/generator_task.hpp (data, the retrieval-fed
// curriculum, step, evaluation) run by the one training loop (train/loop.hpp: --config YAML + flags, --out run
// folder, --resume from the artifact store's `latest`, session budget, metrics JSONL + TensorBoard,
// checkpoints as versions of artifact "adapter", `best` by held-out eval_f1; hoprag-answer
// --artifacts OUT/artifacts loads it). --plan prints the run's memory plan instead.
#include <array>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "device_flag.hpp"
#include "hoprag/components/generator.hpp"
#include "hoprag/components/generator_task.hpp"
#include "hoprag/io/gguf.hpp"
#include "hoprag/train/config_json.hpp"
#include "hoprag/train/loop.hpp"
#include "hoprag/train/memory_plan.hpp"
#include "train_options.hpp"

namespace fs = std::filesystem;
using namespace hoprag;

namespace {

constexpr const char* usage = R"(usage: hoprag-train-generator --model PATH --out DIR [options]
QLoRA fine-tuning of generator<nf4, lora<16, 32, all-linear>> on HotpotQA with cited answers (CPU, fp32).
  --config FILE.yaml    read options from YAML (keys as the flags without --, '-' or '_'); flags override it
  --model PATH          base model: GGUF file or Hugging Face folder (tokenizer from it), required
  --out DIR             run folder: metrics.jsonl, tb/, artifacts/ (artifact "adapter"), required
  --resume              continue from the latest checkpoint in DIR/artifacts
  --train FILE          HotpotQA training questions (repeat or comma list)  [../shared/data/hotpotqa/hotpot_train_sample.jsonl]
  --dev FILE            HotpotQA dev questions (repeat or comma list): the held-out part (fnv1a64(_id) % 8 == 0) is for
                        evaluation, the rest is added to training  [../shared/data/hotpotqa/hotpot_dev_sample.jsonl]
  --dev-training B      true|false: train on the dev questions outside the held-out split  [true]
  --retrieval FILE      ranked passages of the training questions (hoprag-retrieve / hoprag-rerank output over
                        the train and dev files; repeat the flag or give a comma list for several files): the
                        curriculum's candidates and hard negatives. Without it: BM25 over each question's own
                        10 paragraphs (gold almost always among them)
  --eval-retrieval FILE ranked passages of the held-out questions: evaluation (and `best`) on retrieved
                        contexts; without it on each question's own paragraphs
  --corpus FILE         HotpotQA files the ranked files' index was built from (repeat or comma list):
                        their paragraphs are the passages a ranked list may name  [--train and --dev]
  --unit chunk|paragraph  passage unit of the corpus; the ranked files must use the same  [chunk]
  --forced-epochs X     curriculum: gold passages + hard negatives forced in for the first X epochs  [0.5]
  --mix-epochs X        then forced with a probability falling linearly to 0 over X epochs; pure
                        retrieval after (gold may be missing: target "insufficient context")  [1.0]
  --seed S              random seed (adapter init, curriculum, order)  [0]
  --epochs N            passes over the training questions  [2]
  --max-steps N         stop after N optimiser steps in total (0: epochs decide)  [0]
  --lr X                peak learning rate  [5e-4]
  --weight-decay X      AdamW decoupled weight decay  [0.01]
  --accumulation N      micro-batches (of 1 example) per optimiser step  [8]
  --warmup-steps N      linear warm-up, then cosine decay to 10%  [10]
  --max-grad-norm X     global-norm clipping (0: off)  [1.0]
  --loss-scale S        dynamic loss scaling from scale S (the fp16 recipe): gradients of S * loss,
                        a step with inf/NaN gradients is skipped and logged and S halves, S doubles
                        after 2000 good steps; checkpointed (0: off; with f16 compute 65536)  [0]
  --compute T           f32|bf16|f16: type the block linears' GEMM inputs are rounded to (f32
                        accumulation; activations, adapters, optimiser stay f32); auto: the
                        profile's (cpu f32, t4 f16, a100/h100 bf16)  [auto]
  --max-tokens N        tokens per example (prompt + target + end); passages dropped to fit, the
                        curriculum's least wanted first; train at the budget you answer with  [640]
  --passages N          passages per bundle  [10]
  --format F            chat (the tokenizer's template)|chatml|mistral|llama3|plain  [chat]
  --eval-steps N        evaluate every N optimiser steps  [50]
  --save-steps N        checkpoint every N optimiser steps (and at the end)  [50]
  --eval-questions N    held-out questions answered per evaluation  [16]
  --max-new-tokens N    generated tokens per evaluation answer  [24]
  --time-limit D        stop cleanly before D has passed (12h, 90m, 45s; or HOPRAG_TIME_LIMIT)
  --session-steps N     stop cleanly (saved, resumable) after N optimiser steps in this session;
                        unlike --max-steps it leaves the schedule alone (0: off)  [0]
  --device D            cpu|cuda|auto (auto: cuda when a GPU is present)  [auto]
  --profile P           auto|cpu|t4|a100|a100-80|h100: mixed precision (--compute auto) and, with
                        --plan, the memory budget; auto: the GPU present (cpu without)  [auto]
  --checkpointing B     true|false: keep layer inputs only, recompute blocks in backward  [true]
  --plan                print the memory plan (train::plan_memory) of this run — base, profile,
                        seq = --max-tokens, batch 1, NF4 + LoRA r16 all-linear, checkpointing —
                        and exit: 0 fits, 1 does not (one line naming the largest term)
  --plan-memory-gib X   with --plan: memory budget instead of the profile's (0: the profile's)  [0]
  --tensorboard B       true|false  [true]      --no-tensorboard  same as --tensorboard false
  --wandb PROJECT       mirror metrics and checkpoints to this Weights & Biases project with the
                        wandb CLI when it is on PATH; otherwise an offline run folder plus
                        DIR/wandb-offline/upload.sh (the log line says which)  [off]
  --keep-last K         keep the last K checkpoints plus best  [3]
  --help                show this text
Exit status: 0 done or stopped cleanly (resumable), 1 error (one line on stderr), 2 bad usage.
Last stdout line: {"steps", "final_loss", "best_eval_f1", "artifact": "adapter:vN", "stopped", ...})";

/// Run control.
struct run_config {
    std::string model, out;
    bool resume = false, tensorboard = true;
    std::int64_t max_steps = 0, save_steps = 50, eval_steps = 50, keep_last = 3;
    std::string time_limit, profile = "auto", device = "auto";
    std::int64_t session_steps = 0;
    bool checkpointing = true;
    double plan_memory_gib = 0;
    std::string wandb;
    // in declaration order (the flag parser walks the fields with Boost.PFR)
    static constexpr std::array<std::string_view, 15> field_names{
        "model",   "out",    "resume",        "tensorboard",   "max_steps",      "save_steps", "eval_steps", "keep_last", "time_limit",
        "profile", "device", "session_steps", "checkpointing", "plan_memory_gib", "wandb"};
};

using train_cli::usage_error;

void parse_args(int argc, char** argv, components::generator_train_config& t, run_config& r, bool plan) {
    train_cli::parse_config_and_flags(argc, argv, t, r);
    if (r.model.empty()) throw usage_error("--model PATH is required");
    if (r.out.empty() && !plan) throw usage_error("--out DIR is required");
    (void)program::device_profile<cpu::backend>(r.profile);  // a bad name is bad usage before anything loads
    if (plan) {
        if (!(r.plan_memory_gib >= 0)) throw usage_error("--plan-memory-gib must be >= 0");
        if (r.profile == "auto") r.profile = "cpu";
    }
    if (r.max_steps < 0 || r.session_steps < 0 || r.save_steps < 1 || r.eval_steps < 1 || r.keep_last < 1)
        throw usage_error("need --max-steps, --session-steps >= 0 and --save-steps, --eval-steps, --keep-last >= 1");
    try {
        components::validate(t);
    } catch (const config_error& e) {
        throw usage_error(e.what());
    }
}

/// --plan: the memory plan of this run's training step; stderr table, stdout JSON, throws when it does not fit.
int print_plan(const components::generator_train_config& tc, const run_config& rc) {
    const fs::path model(rc.model);
    if (!fs::exists(model)) throw io_error(rc.model + ": no such file or folder (--model wants a GGUF file or a Hugging Face folder)");
    const auto cfg = fs::is_directory(model) ? models::llama::load_config(model) : models::llama::config_from_gguf(io::gguf_file(model));
    auto req = train::training_request<quant::nf4, adapters::lora<16, 32>>(tc.max_tokens, 1, rc.checkpointing);
    if (rc.plan_memory_gib > 0) req.memory_bytes = static_cast<std::size_t>(rc.plan_memory_gib * static_cast<double>(gib));
    const auto plan = train::plan_memory(cfg, profile_named(rc.profile), req);
    std::cerr << "memory plan of hoprag-train-generator on " << rc.model << " (profile " << rc.profile << ", seq " << tc.max_tokens
              << ", batch 1, nf4 + lora r16 all-linear, " << (rc.checkpointing ? "checkpointing" : "no checkpointing") << "):\n"
              << train::plan_table(plan);
    std::cout << train::plan_json(plan).dump() << std::endl;
    train::require_fits(plan);
    return 0;
}

int run(int argc, char** argv) {
    components::generator_train_config tc;
    run_config rc;
    // --plan takes no value; the shared flag parser sees the other arguments
    std::vector<char*> args;
    bool plan = false;
    for (int i = 0; i < argc; ++i) {
        if (i > 0 && std::string_view(argv[i]) == "--plan") plan = true;
        else args.push_back(argv[i]);
    }
    parse_args(static_cast<int>(args.size()), args.data(), tc, rc, plan);
    if (plan) return print_plan(tc, rc);
    return program::run_on_device<true>("hoprag-train-generator", rc.device, [&]<class Backend>() {
        const profile_info prof = program::device_profile<Backend>(rc.profile);
        components::generator_task<components::generator<quant::nf4, adapters::lora<16, 32>, Backend>> task(
            train::with_precision(tc, prof), rc.model, rc.max_steps, rc.checkpointing);
        const auto& settled = task.config();
        std::fprintf(stderr, "hoprag-train-generator: %zu training questions, %zu held-out eval questions, %lld optimiser steps\nhoprag-train-generator: %s\n",
                     task.training_questions(), task.eval_questions(), static_cast<long long>(task.total_steps()), task.curriculum_note().c_str());
        std::fprintf(stderr, "hoprag-train-generator: %s\n", program::precision_note(prof, Backend::name, settled.compute, settled.loss_scale).c_str());
        const train::loop_options lo{.out = rc.out, .artifact = "adapter", .best_metric = "eval_f1", .base_model = rc.model,
                                     .resume = rc.resume, .tensorboard = rc.tensorboard, .keep_last = rc.keep_last,
                                     .save_steps = rc.save_steps, .eval_steps = rc.eval_steps, .session_steps = rc.session_steps,
                                     .time_limit = rc.time_limit, .resume_hint = train::resume_command(argc, argv),
                                     .seed = static_cast<std::uint64_t>(settled.seed), .wandb_project = rc.wandb};
        std::cout << train::run_training(task, lo, train::config_to_json(settled)).dump() << std::endl;
        return 0;
    });
}

}  // namespace

int main(int argc, char** argv) {
    return program::guarded_main("hoprag-train-generator", usage, [&] { return run(argc, argv); });
}
