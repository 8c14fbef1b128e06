// hoprag-train-reranker: fine-tunes a BERT cross-encoder (all-MiniLM-L6-v2 body + pooler, fresh
// 1-logit head, or any 1-label BertForSequenceClassification folder) on HotpotQA candidate groups
// with a loss policy (--loss margin|softmax|bce): components/reranker_task.hpp (data, groups,
// step, held-out evaluation; the held-out questions, data::is_heldout, are only evaluated) run
// by the one training loop (train/loop.hpp: --config YAML + flags, --out run folder, --resume,
// session budget, metrics JSONL + TensorBoard, checkpoints as versions of "reranker-checkpoint",
// `best` by held-out MRR). The model is exported as a Hugging Face folder OUT/model (final) and
// OUT/best-model (best held-out MRR). --fusion-weight W: score fusion with the retriever
// (components/reranker.hpp); w is saved in model.safetensors as "retriever_weight" (hoprag-rerank --fusion).
#include <array>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <string_view>

#include "device_flag.hpp"
#include "hoprag/components/reranker_task.hpp"
#include "hoprag/train/config_json.hpp"
#include "hoprag/train/loop.hpp"
#include "train_options.hpp"

namespace fs = std::filesystem;
using namespace hoprag;
namespace comp = hoprag::components;
using train_cli::usage_error;

namespace {

constexpr const char* usage = R"(usage: hoprag-train-reranker --model DIR --train FILE[,FILE] --out DIR [options]
Fine-tunes a BERT cross-encoder on HotpotQA groups (1 gold paragraph + hard negatives).
  --config FILE.yaml    read options from YAML (keys as the flags without --); flags override it
  --model DIR           Hugging Face BERT folder (BertModel or 1-label BertForSequenceClassification), required
  --train FILES         HotpotQA files used whole for training (comma-separated)
  --dev FILES           HotpotQA files split by _id: held-out part (FNV-1a64 % 8 == 0) evaluated,
                        the rest trained on (comma-separated)
  --retrieval FILE      hoprag-retrieve JSONL for the questions: hard negatives and evaluation
  --out DIR             run folder: metrics.jsonl, tb/, artifacts/, model/, best-model/, required
  --resume              continue from the latest checkpoint in DIR/artifacts
  --loss L              margin|softmax|bce                                  [softmax]
  --max-length N        tokens per pair                                     [256]
  --batch N             pairs per optimiser step (accumulated over groups)  [32]
  --negatives N         negatives per group (group = 1 + N pairs)           [3]
  --from-retrieval N    of which at most N from retrieval, the rest distractors  [2]
  --fusion-weight W     score fusion: score = logit + w * retriever score, w trained from W,
                        classifier starting at zero, groups from the --retrieval top --eval-top
                        (needs --retrieval; 0: off)                          [0]
  --lr X                peak learning rate                                  [2e-5]
  --classifier-lr-scale X  the fresh classifier's learning rate is lr * X    [1]
  --warmup-ratio X      warm-up share of the steps, then linear decay       [0.1]
  --epochs N            passes over the groups                              [2]
  --max-steps N         stop after N steps in total (0: the epochs decide; the
                        learning-rate schedule always spans the epochs)     [0]
  --max-questions N     use at most N training questions (0: all)           [0]
  --seed S  --weight-decay X  --max-grad-norm X
  --checkpointing B     true|false: gradient checkpointing                  [false]
  --device D            cpu|cuda|auto (auto: cuda when a GPU is present)    [auto]
  --profile P           auto|cpu|t4|a100|a100-80|h100: mixed precision of --compute auto
                        (cpu f32, t4 f16, a100/h100 bf16); auto: the GPU present  [auto]
  --compute T           f32|bf16|f16|auto: type the encoder's GEMM inputs are rounded to (f32
                        accumulation; weights, gradients, AdamW stay f32)   [auto]
  --loss-scale S        dynamic loss scaling from S: a step with inf/NaN gradients is skipped and
                        logged, S halves, doubles after 2000 good steps (0: off; f16: 65536)  [0]
  --save-steps N        checkpoint every N steps (and at the end)           [50]
  --eval-steps N        held-out evaluation every N steps (and at the end)  [50]
  --eval-questions N    held-out questions evaluated during training        [60]
  --eval-top N          retrieved passages reranked per question            [20]
  --time-limit D        stop cleanly before D has passed (90m, 45s; or HOPRAG_TIME_LIMIT)
  --tensorboard B / --no-tensorboard   TensorBoard events in DIR/tb          [true]
  --wandb PROJECT       mirror metrics and checkpoints to this Weights & Biases project with the
                        wandb CLI when it is on PATH; otherwise an offline run folder plus
                        DIR/wandb-offline/upload.sh (the log line says which)  [off]
  --keep-last K         keep the last K checkpoints plus best               [2]
  --help                show this text
Exit status: 0 done or stopped cleanly (resumable), 1 error (one line on stderr), 2 bad usage.
Last stdout line: {"steps":..,"final_loss":..,"best_eval_mrr":..,"artifact":"reranker-checkpoint:vN",...})";

/// Run control (not hashed).
struct run_config {
    std::string out, time_limit, device = "auto", profile = "auto";
    bool resume = false, tensorboard = true;
    std::int64_t max_steps = 0, save_steps = 50, eval_steps = 50, eval_questions = 60, eval_top = 20, keep_last = 2,
                 step_sleep_ms = 0;
    std::string wandb;
    static constexpr std::array<std::string_view, 14> field_names{"out",       "time_limit", "device",     "profile",    "resume",
                                                                  "tensorboard", "max_steps", "save_steps", "eval_steps",
                                                                  "eval_questions", "eval_top", "keep_last", "step_sleep_ms", "wandb"};
};

template <class Loss, class Backend>
int train(const comp::reranker_train_config& tc, const run_config& rc, int argc, char** argv) {
    const profile_info prof = program::device_profile<Backend>(rc.profile);
    comp::reranker_task<Loss, Backend> task(train::with_precision(tc, prof),
                                            {.max_steps = rc.max_steps, .eval_questions = rc.eval_questions, .eval_top = rc.eval_top, .out = rc.out});
    const auto& settled = task.config();
    std::fprintf(stderr, "hoprag-train-reranker: %s\n", task.summary().c_str());
    std::fprintf(stderr, "hoprag-train-reranker: %s\n", program::precision_note(prof, Backend::name, settled.compute, settled.loss_scale).c_str());
    if (task.head_fresh()) std::fprintf(stderr, "hoprag-train-reranker: pooler/classifier not in %s: initialised fresh\n", tc.model.c_str());
    const train::loop_options lo{.out = rc.out, .artifact = "reranker-checkpoint", .best_metric = "eval_mrr",
                                 .base_model = fs::path(tc.model).filename().string(), .compress = false, .resume = rc.resume,
                                 .tensorboard = rc.tensorboard, .keep_last = rc.keep_last, .save_steps = rc.save_steps,
                                 .eval_steps = rc.eval_steps, .time_limit = rc.time_limit, .end_name = "done",
                                 .resume_hint = train::resume_command(argc, argv), .step_sleep_ms = rc.step_sleep_ms,
                                 .seed = static_cast<std::uint64_t>(tc.seed), .wandb_project = rc.wandb};
    auto res = train::run_training(task, lo, train::config_to_json(settled));
    task.export_model(fs::path(rc.out) / "model");
    res["model"] = (fs::path(rc.out) / "model").string();
    std::cout << res.dump() << std::endl;
    return 0;
}

int run(int argc, char** argv) {
    comp::reranker_train_config tc;
    run_config rc;
    train_cli::parse_config_and_flags(argc, argv, tc, rc);
    if (rc.out.empty() || tc.model.empty()) throw usage_error("--out DIR and --model DIR are required");
    try {
        comp::validate(tc);
    } catch (const config_error& e) {
        throw usage_error(e.what());
    }
    if (rc.save_steps < 1 || rc.eval_steps < 1 || rc.keep_last < 1 || rc.eval_top < 1)
        throw usage_error("need --save-steps, --eval-steps, --keep-last, --eval-top >= 1");
    if (tc.loss != "margin" && tc.loss != "softmax" && tc.loss != "bce")
        throw usage_error("--loss must be margin, softmax or bce, got '" + tc.loss + "'");
    return program::run_on_device<true>("hoprag-train-reranker", rc.device, [&]<class Backend>() {
        if (tc.loss == "margin") return train<comp::margin_loss, Backend>(tc, rc, argc, argv);
        if (tc.loss == "bce") return train<comp::bce_loss, Backend>(tc, rc, argc, argv);
        return train<comp::softmax_loss, Backend>(tc, rc, argc, argv);
    });
}

}  // namespace

int main(int argc, char** argv) {
    return program::guarded_main("hoprag-train-reranker", usage, [&] { return run(argc, argv); });
}
