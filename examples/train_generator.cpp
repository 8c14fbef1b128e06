// hoprag-train-generator: QLoRA fine-tuning of the generator, generator<nf4, lora<16, 32,
// all-linear>>, on HotpotQA bundles with cited targets (data/prompt.hpp), on the CPU backend in
// fp32 (the cpu profile's precision). Data: the train file plus the dev questions outside the
// held-out split (data/heldout_split.hpp); the curriculum (forced_gold<1>: gold passages forced in
// during epoch 0, BM25-retrieved contexts from epoch 1 on) makes one bundle per question and epoch;
// examples are visited in a Philox shuffle per epoch, batch 1 with gradient accumulation.
// Conventions of hoprag-train-mlp: --config YAML + flags, --out run folder, --resume from the
// artifact store's `latest`, AdamW + warm-up/cosine schedule + global-norm clipping, session budget
// (--time-limit, SIGTERM/SIGINT: finish the step, save, exit 0), metrics JSONL + TensorBoard,
// progress bar, one JSON object as the last stdout line. Every --save-steps optimiser steps the
// adapter (PEFT folder files) and an optimiser checkpoint are logged as a version of artifact
// "adapter" in OUT/artifacts, `best` by eval_f1 (answer F1 of greedy answers on the first
// --eval-questions held-out questions with their own paragraphs); hoprag-answer --artifacts OUT/artifacts
// loads `best`. Checkpoints are taken at accumulation-window boundaries, so a resumed run
// continues with the same examples, moments and schedule.
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "hoprag/adapters/lora_grads.hpp"
#include "hoprag/components/answerer.hpp"
#include "hoprag/components/curriculum.hpp"
#include "hoprag/components/generator.hpp"
#include "hoprag/cpu/backend.hpp"
#include "hoprag/data/heldout_split.hpp"
#include "hoprag/data/hotpotqa.hpp"
#include "hoprag/data/prompt.hpp"
#include "hoprag/eval/hotpot_metrics.hpp"
#include "hoprag/io/gguf.hpp"
#include "hoprag/models/llama/train.hpp"
#include "hoprag/tokenizers/load_tokenizer.hpp"
#include "hoprag/train/adamw.hpp"
#include "hoprag/train/artifact_store.hpp"
#include "hoprag/train/checkpoint.hpp"
#include "hoprag/train/config_json.hpp"
#include "hoprag/train/gradients.hpp"
#include "hoprag/train/memory_plan.hpp"
#include "hoprag/train/metrics_log.hpp"
#include "hoprag/train/schedule.hpp"
#include "hoprag/train/session_budget.hpp"
#include "hoprag/train/tensorboard.hpp"
#include "train_options.hpp"
#include "train_session.hpp"

namespace fs = std::filesystem;
using namespace hoprag;

namespace {

constexpr const char* usage = R"(usage: hoprag-train-generator --model PATH --out DIR [options]
QLoRA fine-tuning of generator<nf4, lora<16, 32, all-linear>> on HotpotQA with cited answers (CPU, fp32).
  --config FILE.yaml    read options from YAML (keys as the flags without --, '-' or '_'); flags override it
  --model PATH          base model: GGUF file or Hugging Face folder (tokenizer from it), required
  --out DIR             run folder: metrics.jsonl, tb/, artifacts/ (artifact "adapter"), required
  --resume              continue from the latest checkpoint in DIR/artifacts
  --train FILE          HotpotQA training questions  [../shared/data/hotpotqa/hotpot_train_sample.jsonl]
  --dev FILE            HotpotQA dev questions: the held-out part (fnv1a64(_id) % 8 == 0) is for
                        evaluation, the rest is added to training  [../shared/data/hotpotqa/hotpot_dev_sample.jsonl]
  --seed S              random seed (adapter init, curriculum, order)  [0]
  --epochs N            passes over the training questions  [2]
  --max-steps N         stop after N optimiser steps in total (0: epochs decide)  [0]
  --lr X                peak learning rate  [5e-4]
  --weight-decay X      AdamW decoupled weight decay  [0.01]
  --accumulation N      micro-batches (of 1 example) per optimiser step  [8]
  --warmup-steps N      linear warm-up, then cosine decay to 10%  [10]
  --max-grad-norm X     global-norm clipping (0: off)  [1.0]
  --max-tokens N        tokens per example (prompt + target + end); passages dropped to fit  [512]
  --passages N          passages per bundle  [10]
  --format F            chat|plain prompt  [chat]
  --eval-steps N        evaluate every N optimiser steps  [50]
  --save-steps N        checkpoint every N optimiser steps (and at the end)  [50]
  --eval-questions N    held-out questions answered per evaluation  [16]
  --max-new-tokens N    generated tokens per evaluation answer  [24]
  --time-limit D        stop cleanly before D has passed (12h, 90m, 45s; or HOPRAG_TIME_LIMIT)
  --session-steps N     stop cleanly (saved, resumable) after N optimiser steps in this session;
                        unlike --max-steps it leaves the schedule alone (0: off)  [0]
  --profile P           cpu|auto (this program trains on the CPU backend, fp32)  [auto];
                        with --plan also t4|a100|h100
  --checkpointing B     true|false: keep layer inputs only, recompute blocks in backward  [true]
  --plan                print the memory plan (train::plan_memory) of this run — base, profile,
                        seq = --max-tokens, batch 1, NF4 + LoRA r16 all-linear, checkpointing —
                        and exit: 0 fits, 1 does not (one line naming the largest term)
  --plan-memory-gib X   with --plan: memory budget instead of the profile's (0: the profile's)  [0]
  --tensorboard B       true|false  [true]      --no-tensorboard  same as --tensorboard false
  --keep-last K         keep the last K checkpoints plus best  [3]
  --help                show this text
Exit status: 0 done or stopped cleanly (resumable), 1 error (one line on stderr), 2 bad usage.
Last stdout line: {"steps", "final_loss", "best_eval_f1", "artifact": "adapter:vN", "stopped", ...})";

/// Everything that changes the numbers (hashed into checkpoints).
struct train_config {
    std::string train = "../shared/data/hotpotqa/hotpot_train_sample.jsonl";
    std::string dev = "../shared/data/hotpotqa/hotpot_dev_sample.jsonl";
    std::int64_t seed = 0, epochs = 2, accumulation = 8, warmup_steps = 10, max_tokens = 512, passages = 10;
    double lr = 5e-4, weight_decay = 0.01, max_grad_norm = 1.0;
    std::string format = "chat";
    std::int64_t eval_questions = 16, max_new_tokens = 24;
    static constexpr std::array<std::string_view, 14> field_names{
        "train", "dev", "seed", "epochs", "accumulation", "warmup_steps", "max_tokens", "passages", "lr", "weight_decay", "max_grad_norm",
        "format", "eval_questions", "max_new_tokens"};
};

/// Run control.
struct run_config {
    std::string model, out;
    bool resume = false, tensorboard = true;
    std::int64_t max_steps = 0, save_steps = 50, eval_steps = 50, keep_last = 3;
    std::string time_limit, profile = "auto";
    std::int64_t session_steps = 0;
    bool checkpointing = true;
    double plan_memory_gib = 0;
    // in declaration order (the flag parser walks the fields with Boost.PFR)
    static constexpr std::array<std::string_view, 13> field_names{
        "model",   "out",           "resume",        "tensorboard",    "max_steps", "save_steps", "eval_steps", "keep_last", "time_limit",
        "profile", "session_steps", "checkpointing", "plan_memory_gib"};
};

using train_cli::usage_error;
using gen_t = components::generator<quant::nf4, adapters::lora<16, 32>, cpu::backend>;

void parse_args(int argc, char** argv, train_config& t, run_config& r, bool plan) {
    train_cli::parse_config_and_flags(argc, argv, t, r);
    if (r.model.empty()) throw usage_error("--model PATH is required");
    if (r.out.empty() && !plan) throw usage_error("--out DIR is required");
    if (plan) {
        if (r.profile != "auto" && r.profile != "cpu" && r.profile != "t4" && r.profile != "a100" && r.profile != "h100")
            throw usage_error("--profile must be auto, cpu, t4, a100 or h100, got '" + r.profile + "'");
        if (!(r.plan_memory_gib >= 0)) throw usage_error("--plan-memory-gib must be >= 0");
        r.profile = r.profile == "t4" || r.profile == "a100" || r.profile == "h100" ? r.profile : "cpu";
    }
    if (r.max_steps < 0 || r.session_steps < 0 || r.save_steps < 1 || r.eval_steps < 1 || r.keep_last < 1)
        throw usage_error("need --max-steps, --session-steps >= 0 and --save-steps, --eval-steps, --keep-last >= 1");
    if (t.epochs < 1 || t.accumulation < 1 || t.warmup_steps < 0 || t.max_tokens < 16 || t.passages < 1 || t.eval_questions < 1 ||
        t.max_new_tokens < 1 || !(t.lr > 0))
        throw usage_error("need --epochs, --accumulation, --passages, --eval-questions, --max-new-tokens >= 1, --max-tokens >= 16, --lr > 0");
    if (t.format != "chat" && t.format != "plain") throw usage_error("--format must be chat or plain, got '" + t.format + "'");
    if (r.profile != "auto" && r.profile != "cpu")
        throw usage_error("--profile " + r.profile + ": hoprag-train-generator trains on the CPU backend (fp32) only; use cpu or auto");
}

/// Example order of epoch `e`: Fisher-Yates driven by Philox stream (seed, 2000 + e).
std::vector<std::size_t> epoch_order(std::uint64_t seed, std::int64_t e, std::size_t n) {
    std::vector<std::size_t> o(n);
    for (std::size_t i = 0; i < n; ++i) o[i] = i;
    const philox_stream r{seed, 2000 + static_cast<std::uint64_t>(e)};
    for (std::size_t i = n; i > 1; --i) std::swap(o[i - 1], o[r.bits(i) % i]);
    return o;
}

/// Host copies of the tensors' params (which = 0), first (1) or second (2) moments, named as PEFT.
std::vector<train::named_tensor> gather(const adapters::lora_optimizer<cpu::context>& opt, int which) {
    std::vector<train::named_tensor> out;
    for (const auto& t : opt.tensors()) {
        const float* p = which == 0 ? t.param : which == 1 ? t.m : t.v;
        out.push_back({t.name, shape{t.n}, std::vector<float>(p, p + t.n)});
    }
    return out;
}

profile_info profile_named(const std::string& name) {
    if (name == "t4") return info_of<t4_profile>();
    if (name == "a100") return info_of<a100_profile>();
    if (name == "h100") return info_of<h100_profile>();
    return info_of<cpu_profile>();
}

/// --plan: the memory plan of this run's training step; stderr table, stdout JSON, throws when it does not fit.
int print_plan(const train_config& tc, const run_config& rc) {
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
    train_config tc;
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
    const fs::path out = rc.out;
    fs::create_directories(out);
    const auto config_json = train::config_to_json(tc);

    // data
    auto records = data::load_all(tc.train);
    const auto dev = data::load_all(tc.dev);
    for (auto& r : data::select_split(dev, data::split_part::training)) records.push_back(std::move(r));
    auto eval_set = data::select_split(dev, data::split_part::heldout);
    if (eval_set.size() > static_cast<std::size_t>(tc.eval_questions)) eval_set.resize(static_cast<std::size_t>(tc.eval_questions));
    const auto corpus = data::build_corpus(records, data::whitespace_counter{});
    const data::bm25_scorer bm(corpus);
    components::curriculum_options co;
    co.k = static_cast<std::size_t>(tc.passages), co.seed = static_cast<std::uint64_t>(tc.seed);
    const auto cur = components::curriculum<components::forced_gold<1>>::from_scorer(corpus, records, bm, co);
    const std::size_t n_examples = cur.size();
    const std::int64_t steps_per_epoch = static_cast<std::int64_t>(n_examples) / tc.accumulation;
    const std::int64_t total_steps = rc.max_steps > 0 ? rc.max_steps : steps_per_epoch * tc.epochs;
    std::fprintf(stderr, "hoprag-train-generator: %zu training questions, %zu held-out eval questions, %lld optimiser steps\n", n_examples,
                 eval_set.size(), static_cast<long long>(total_steps));

    // model; a resumed run loads the adapter before the optimiser takes pointers into it
    cpu::context ctx(static_cast<std::uint64_t>(tc.seed));
    const fs::path model(rc.model);
    gen_t g = fs::is_directory(model) ? gen_t::from_hf(ctx, model, static_cast<std::uint64_t>(tc.seed))
                                      : gen_t::from_gguf(ctx, model, static_cast<std::uint64_t>(tc.seed));
    const auto tok = tokenizers::load_tokenizer(model);
    train::artifact_store store(out / "artifacts", {.keep_last = rc.keep_last, .best_metric = "eval_f1"});
    const std::string artifact = "adapter";
    train::training_state st;
    st.rng_seed = static_cast<std::uint64_t>(tc.seed);
    std::optional<train::checkpoint> resumed;
    std::string artifact_tag;
    if (rc.resume && !store.versions(artifact).empty()) {
        const auto av = store.resolve(artifact, "latest");
        const auto dir = out / ".resume";
        fs::remove_all(dir);
        store.fetch(artifact, "latest", dir);
        g.load_adapter(dir);
        artifact_tag = av.tag();
        resumed.emplace();  // moments and state are read below, once the optimiser exists
        std::fprintf(stderr, "resuming from %s %s\n", artifact.c_str(), av.tag().c_str());
    } else if (rc.resume) {
        std::fprintf(stderr, "--resume: no checkpoint in %s yet; starting fresh\n", (out / "artifacts").string().c_str());
    }
    auto grads = adapters::make_lora_grad_set(ctx, g.adapter());
    adapters::lora_optimizer<cpu::context> opt(ctx, g.adapter(), grads);
    std::vector<train::tensor_spec> specs;
    for (const auto& t : opt.tensors()) specs.push_back({t.name, shape{t.n}});
    double best_eval = NAN, last_loss = NAN;
    if (resumed) {
        const auto ck = train::load_checkpoint(out / ".resume" / "checkpoint.safetensors", specs, config_json);
        for (std::size_t i = 0; i < ck.adam_m.size(); ++i) opt.first_moments()[i].assign(ck.adam_m[i].data), opt.second_moments()[i].assign(ck.adam_v[i].data);
        st = ck.state;
        if (st.extra.contains("best_eval_f1") && st.extra["best_eval_f1"].is_number()) best_eval = st.extra["best_eval_f1"].get<double>();
        if (st.extra.contains("last_loss") && st.extra["last_loss"].is_number()) last_loss = st.extra["last_loss"].get<double>();
    }

    const train::adamw_hparams hp{.weight_decay = static_cast<float>(tc.weight_decay)};
    const std::int64_t schedule_steps = std::max<std::int64_t>(1, total_steps);  // warm-up capped at the run's length
    const train::warmup_cosine_lr sched(static_cast<float>(tc.lr), std::min(tc.warmup_steps, schedule_steps), schedule_steps, 0.1f);
    train_cli::run_session session(out, rc.tensorboard, rc.time_limit, st.step, config_json);

    data::prompt_options po;
    po.format = tc.format == "plain" ? data::prompt_format::plain : data::prompt_format::chat;
    po.max_tokens = static_cast<std::size_t>(tc.max_tokens);
    components::answer_options ao;
    ao.prompt = po;
    ao.max_new_tokens = tc.max_new_tokens;
    const auto evaluate = [&] {
        eval::hotpot_predictions pred;
        for (const auto& r : eval_set) {
            const auto res = components::answer_question(g, tok, r.question, components::own_paragraph_contexts(r), ao);
            pred.answer[r.id] = res.prediction.answer;
            pred.sp[r.id] = res.prediction.sp;
        }
        return eval::evaluate_hotpot(eval_set, pred).overall;
    };
    const auto save = [&] {
        const auto t0 = std::chrono::steady_clock::now();
        const auto dir = out / ".staging-adapter";
        fs::remove_all(dir);
        g.save_adapter(dir, rc.model);
        train::checkpoint ck{gather(opt, 0), gather(opt, 1), gather(opt, 2), st, config_json};
        ck.state.extra["best_eval_f1"] = std::isfinite(best_eval) ? nlohmann::json(best_eval) : nlohmann::json();
        ck.state.extra["last_loss"] = std::isfinite(last_loss) ? nlohmann::json(last_loss) : nlohmann::json();
        train::save_checkpoint(dir / "checkpoint.safetensors", ck);
        train::artifact_metadata meta;
        meta.step = st.step;
        meta.base_model = rc.model;
        meta.config_hash = train::config_hash(config_json);
        for (const char* k : {"last_eval_f1", "last_eval_em", "last_eval_sp_f1", "last_eval_joint_f1"})
            if (st.extra.contains(k)) meta.metrics[std::string(k).substr(5)] = st.extra[k].get<double>();
        meta.extra = {{"adapter", "lora r16 alpha32 all-linear"}, {"quant", "nf4"}, {"epoch", st.epoch}, {"prompt_format", tc.format}};
        std::vector<fs::path> files;
        for (const auto& e : fs::directory_iterator(dir)) files.push_back(e.path());
        std::sort(files.begin(), files.end());
        const auto av = store.log(artifact, files, meta);
        fs::remove_all(dir);
        session.sync();
        artifact_tag = av.tag();
        session.budget.record_save(std::chrono::steady_clock::now() - t0);
    };

    std::string stop = "max_steps";
    std::int64_t saved_at = resumed ? st.step : -1;
    adapters::zero_grads(ctx, grads);
    models::llama::train_workspace<cpu::context> ws;
    double window_loss = 0;
    std::int64_t window_tokens = 0;
    auto window_start = std::chrono::steady_clock::now();
    const std::int64_t session_start_step = st.step;
    while (st.step < total_steps) {
        // stops only at accumulation-window boundaries: the checkpoint holds no partial gradients
        if (st.accum_done == 0) {
            if (const auto why = session.budget.check(); why != train::stop_reason::none) {
                stop = why == train::stop_reason::signal ? "signal" : "deadline";
                break;
            }
            if (rc.session_steps > 0 && st.step - session_start_step >= rc.session_steps) {
                stop = "session_steps";
                break;
            }
        }
        if (st.data_position >= static_cast<std::int64_t>(n_examples)) ++st.epoch, st.data_position = 0;
        const auto order = epoch_order(st.rng_seed, st.epoch, n_examples);
        const auto b = cur.bundle(static_cast<std::size_t>(st.epoch), order[static_cast<std::size_t>(st.data_position)]);
        ++st.data_position;
        std::vector<data::prompt_passage> ps;
        for (std::size_t i = 0; i < b.passages.size(); ++i) ps.push_back({b.passages[i].title, b.passages[i].text, i, b.passages[i].supporting});
        const auto ex = data::encode_example(tok, b.question, ps, std::string_view(b.answer), po);
        models::llama::train_options to;
        to.checkpointing = rc.checkpointing;
        to.step = static_cast<std::uint64_t>(st.step * tc.accumulation + st.accum_done);
        const auto seq = static_cast<std::int64_t>(ex.ids.size());
        const float loss = models::llama::loss_and_grads(ctx, g, ex.ids, ex.labels, 1, seq, grads, to, &ws);
        if (!std::isfinite(loss)) throw hoprag::error("loss is " + std::to_string(loss) + " on question " + b.id + " at step " + std::to_string(st.step + 1));
        window_loss += loss, window_tokens += seq;
        if (++st.accum_done < tc.accumulation) continue;
        const auto rep = train::inspect_grads(ctx, opt.tensors(), 1.0f, tc.max_grad_norm, tc.accumulation);
        if (!rep.finite) throw hoprag::error("gradients are not finite at step " + std::to_string(st.step + 1));
        const float lr = sched.lr(st.step);
        adamw_update(ctx, opt.tensors(), train::make_adamw_step(hp, st.step + 1, lr, rep.grad_scale));
        adapters::zero_grads(ctx, grads);
        ++st.step;
        st.accum_done = 0;
        last_loss = window_loss / static_cast<double>(tc.accumulation);
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - window_start).count();
        session.log(st.step, {{"loss", last_loss}, {"lr", lr}, {"grad_norm", rep.norm}, {"tokens_per_s", double(window_tokens) / secs}, {"epoch", double(st.epoch)}});
        session.budget.record_step(std::chrono::steady_clock::now() - window_start);
        session.progress.print({st.step, total_steps, last_loss, double(window_tokens) / secs});
        window_loss = 0, window_tokens = 0;
        if (st.step % rc.eval_steps == 0 || st.step == total_steps) {
            const auto s = evaluate();
            st.extra["last_eval_f1"] = s.answer.f1, st.extra["last_eval_em"] = s.answer.em;
            st.extra["last_eval_sp_f1"] = s.sp.f1, st.extra["last_eval_joint_f1"] = s.joint.f1;
            if (!(s.answer.f1 <= best_eval)) best_eval = s.answer.f1;
            session.log(st.step, {{"eval_f1", s.answer.f1}, {"eval_em", s.answer.em}, {"eval_sp_f1", s.sp.f1}, {"eval_joint_f1", s.joint.f1}});
        }
        if (st.step % rc.save_steps == 0) save(), saved_at = st.step;
        window_start = std::chrono::steady_clock::now();
    }
    session.progress.finish();
    if (saved_at != st.step) save();
    nlohmann::ordered_json res{{"steps", st.step},
                               {"final_loss", std::isfinite(last_loss) ? nlohmann::ordered_json(last_loss) : nlohmann::ordered_json()},
                               {"best_eval_f1", std::isfinite(best_eval) ? nlohmann::ordered_json(best_eval) : nlohmann::ordered_json()},
                               {"artifact", artifact + ":" + artifact_tag},
                               {"epoch", st.epoch},
                               {"stopped", stop}};
    return session.finish(stop, "max_steps", st.step, res, argc, argv);
}

}  // namespace

int main(int argc, char** argv) {
    return program::guarded_main("hoprag-train-generator", usage, [&] { return run(argc, argv); });
}
