// hoprag-train-reranker: fine-tunes a BERT cross-encoder (all-MiniLM-L6-v2 body + pooler, fresh
// 1-logit head, or any 1-label BertForSequenceClassification folder) on HotpotQA candidate groups
// with a loss policy (--loss margin|softmax|bce). Conventions of hoprag-train-mlp: --config YAML
// with flags overriding it, --out run folder, --resume from the artifact store's `latest`, AdamW +
// warm-up/linear decay + global-norm clipping, gradient accumulation to --batch pairs per step,
// session budget (--time-limit, SIGTERM/SIGINT: finish the step, save, exit 0), metrics JSONL +
// TensorBoard, checkpoints (model + AdamW moments + data position) as versions of the artifact
// "reranker-checkpoint" (latest, best by held-out MRR), and one JSON object as the last stdout line.
// Data: every question of --train files, and the questions of --dev files outside the held-out
// split (FNV-1a64(_id) % 4 != 0); the held-out dev questions are only evaluated (top --eval-top of
// --retrieval reranked; without a retrieval line, the question's own context paragraphs). The trained model is exported as a Hugging Face folder OUT/model
// (final) and OUT/best-model (best held-out MRR).
// --fusion-weight W (off by default): score fusion with the retriever (components/reranker.hpp):
// score = logit + w * retriever score, w a trained scalar starting at W, a fresh classifier
// starting at zero (so step 0 is exactly the retriever order), groups drawn from the retrieval
// list's top --eval-top (gold passages + hard negatives, each with its score); the models get a
// fusion.json (hoprag-rerank --fusion).
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hoprag/components/reranker.hpp"
#include "hoprag/cpu/backend.hpp"
#include "hoprag/data/hotpotqa.hpp"
#include "hoprag/eval/retrieval_metrics.hpp"
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
namespace comp = hoprag::components;
namespace bert = hoprag::models::bert;
using train_cli::usage_error;

namespace {

constexpr const char* usage = R"(usage: hoprag-train-reranker --model DIR --train FILE[,FILE] --out DIR [options]
Fine-tunes a BERT cross-encoder on HotpotQA groups (1 gold paragraph + hard negatives).
  --config FILE.yaml    read options from YAML (keys as the flags without --); flags override it
  --model DIR           Hugging Face BERT folder (BertModel or 1-label BertForSequenceClassification), required
  --train FILES         HotpotQA files used whole for training (comma-separated)
  --dev FILES           HotpotQA files split by _id: held-out part (FNV-1a64 % 4 == 0) evaluated,
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
  --save-steps N        checkpoint every N steps (and at the end)           [50]
  --eval-steps N        held-out evaluation every N steps (and at the end)  [50]
  --eval-questions N    held-out questions evaluated during training        [60]
  --eval-top N          retrieved passages reranked per question            [20]
  --time-limit D        stop cleanly before D has passed (90m, 45s; or HOPRAG_TIME_LIMIT)
  --tensorboard B / --no-tensorboard   TensorBoard events in DIR/tb          [true]
  --keep-last K         keep the last K checkpoints plus best               [2]
  --help                show this text
Exit status: 0 done or stopped cleanly (resumable), 1 error (one line on stderr), 2 bad usage.
Last stdout line: {"steps":..,"final_loss":..,"best_eval_mrr":..,"artifact":"reranker-checkpoint:vN",...})";

struct train_config {
    std::string model, train, dev, retrieval, loss = "softmax";
    std::int64_t seed = 0, max_length = 256, batch = 32, negatives = 3, from_retrieval = 2, epochs = 2, max_questions = 0;
    double lr = 2e-5, warmup_ratio = 0.1, weight_decay = 0.01, max_grad_norm = 1.0, classifier_lr_scale = 1.0, fusion_weight = 0.0;
    bool checkpointing = false;
    static constexpr std::array<std::string_view, 19> field_names{
        "model",  "train",     "dev",            "retrieval", "loss",          "seed",          "max_length",   "batch",        "negatives",
        "from_retrieval", "epochs", "max_questions", "lr",     "warmup_ratio", "weight_decay", "max_grad_norm", "classifier_lr_scale",
        "fusion_weight", "checkpointing"};
};

struct run_config {
    std::string out, time_limit;
    bool resume = false, tensorboard = true;
    std::int64_t max_steps = 0, save_steps = 50, eval_steps = 50, eval_questions = 60, eval_top = 20, keep_last = 2,
                 step_sleep_ms = 0;
    static constexpr std::array<std::string_view, 11> field_names{"out",       "time_limit", "resume",    "tensorboard",
                                                                  "max_steps", "save_steps", "eval_steps", "eval_questions",
                                                                  "eval_top",  "keep_last",  "step_sleep_ms"};
};

std::vector<std::string> split_list(const std::string& s) {
    std::vector<std::string> out;
    std::size_t a = 0;
    while (a <= s.size() && !s.empty()) {
        const auto b = s.find(',', a);
        const auto item = s.substr(a, b == std::string::npos ? std::string::npos : b - a);
        if (!item.empty()) out.push_back(item);
        if (b == std::string::npos) break;
        a = b + 1;
    }
    return out;
}

/// The group order of epoch `epoch`: a Fisher-Yates shuffle driven by stream 1000 + epoch.
std::vector<std::size_t> epoch_order(std::uint64_t seed, std::int64_t epoch, std::size_t n) {
    std::vector<std::size_t> o(n);
    for (std::size_t i = 0; i < n; ++i) o[i] = i;
    const philox_stream r{seed, 1000 + static_cast<std::uint64_t>(epoch)};
    for (std::size_t i = n; i > 1; --i) std::swap(o[i - 1], o[r.bits(i) % i]);
    return o;
}

template <class Loss>
int train(const train_config& tc, const run_config& rc, int argc, char** argv) {
    const fs::path out = rc.out;
    fs::create_directories(out);
    const auto config_json = train::config_to_json(tc);

    // data
    std::vector<data::hotpot_record> train_q, eval_q;
    for (const auto& f : split_list(tc.train))
        for (auto& r : data::load_all(f)) train_q.push_back(std::move(r));
    for (const auto& f : split_list(tc.dev))
        for (auto& r : data::load_all(f)) (comp::held_out(r.id) ? eval_q : train_q).push_back(std::move(r));
    if (tc.max_questions > 0 && static_cast<std::int64_t>(train_q.size()) > tc.max_questions) train_q.resize(static_cast<std::size_t>(tc.max_questions));
    comp::retrieval_file retrieval;
    if (!tc.retrieval.empty()) retrieval = comp::read_retrieval(tc.retrieval);
    std::vector<comp::training_group> groups;
    std::size_t with_retrieval = 0;
    const bool fusion = tc.fusion_weight != 0.0;
    if (fusion && tc.retrieval.empty()) throw config_error("--fusion-weight needs --retrieval (every pair needs its retriever score)");
    const comp::group_options gopt{.negatives = static_cast<std::size_t>(tc.negatives),
                                   .from_retrieval = static_cast<std::size_t>(tc.from_retrieval),
                                   .seed = static_cast<std::uint64_t>(tc.seed)};
    for (const auto& r : train_q) {
        const auto it = retrieval.by_id.find(r.id);
        with_retrieval += it != retrieval.by_id.end();
        if (fusion) {
            if (it != retrieval.by_id.end())
                for (auto& g : comp::make_retrieval_groups(r, it->second, static_cast<std::size_t>(rc.eval_top), gopt)) groups.push_back(std::move(g));
            continue;
        }
        for (auto& g : comp::make_groups(r, it == retrieval.by_id.end() ? nullptr : &it->second, gopt)) groups.push_back(std::move(g));
    }
    if (groups.empty()) throw config_error("no training groups: give --train/--dev files with labelled questions");
    std::vector<const data::hotpot_record*> evals;
    for (const auto& r : eval_q)
        if (static_cast<std::int64_t>(evals.size()) < rc.eval_questions) evals.push_back(&r);
    const std::int64_t group_pairs = 1 + tc.negatives;
    const std::int64_t groups_per_step = std::max<std::int64_t>(1, tc.batch / group_pairs);
    const std::int64_t steps_per_epoch = std::max<std::int64_t>(1, static_cast<std::int64_t>(groups.size()) / groups_per_step);
    // the schedule spans the epochs; --max-steps only stops earlier (a resumed run continues it)
    const std::int64_t schedule_steps = steps_per_epoch * tc.epochs;
    const std::int64_t total_steps = rc.max_steps > 0 ? std::min(schedule_steps, rc.max_steps) : schedule_steps;
    std::fprintf(stderr, "hoprag-train-reranker: %zu training questions (%zu with retrieval), %zu groups of %lld pairs, "
                         "%lld groups per step, %lld steps per epoch, %lld steps this run; %zu held-out questions evaluated\n",
                 train_q.size(), with_retrieval, groups.size(), static_cast<long long>(group_pairs),
                 static_cast<long long>(groups_per_step), static_cast<long long>(steps_per_epoch),
                 static_cast<long long>(total_steps), evals.size());

    // model and optimiser
    cpu::context ctx(static_cast<std::uint64_t>(tc.seed));
    comp::reranker<Loss, cpu::backend> rr(ctx, tc.model,
                                          {.max_length = tc.max_length, .max_batch = std::max<std::int64_t>(group_pairs, 8),
                                           .checkpointing = tc.checkpointing, .seed = static_cast<std::uint64_t>(tc.seed)});
    auto& model = rr.model();
    auto adam_m = bert::zero_cross_encoder_parameters(ctx, model.model_config());
    auto adam_v = bert::zero_cross_encoder_parameters(ctx, model.model_config());
    std::vector<std::string> names;
    auto tensors = comp::adamw_tensors(model.params(), model.grads(), adam_m, adam_v, names);
    // score fusion: the retriever weight w is one more (1-element, undecayed) tensor of the head's update
    buffer<cpu::context, float> fw(ctx, std::vector<float>{static_cast<float>(tc.fusion_weight)}), fw_g(ctx, std::vector<float>{0.0f}),
        fw_m(ctx, std::vector<float>{0.0f}), fw_v(ctx, std::vector<float>{0.0f});
    if (fusion) {
        rr.set_retriever_weight(static_cast<float>(tc.fusion_weight));
        if (model.head_fresh()) rr.zero_classifier();
        tensors.push_back({.param = fw.data(), .m = fw_m.data(), .v = fw_v.data(), .grad = fw_g.data(), .n = 1, .decay = false,
                           .name = "retriever_weight"});
    }
    const std::size_t n_head = fusion ? 3 : 2;  // classifier weight + bias (+ w): the last tensors
    std::vector<train::tensor_spec> specs;
    for (const auto& [name, dims] : bert::cross_encoder_shapes(model.model_config())) {
        shape s;
        s.rank = static_cast<int>(dims.size());
        for (int d = 0; d < s.rank; ++d) s.dims[static_cast<std::size_t>(d)] = dims[static_cast<std::size_t>(d)];
        specs.push_back({name, s});
    }
    const auto gather = [&](bert::cross_encoder_parameters<cpu::context>& p) {
        std::vector<train::named_tensor> v;
        std::size_t i = 0;
        bert::for_each_tensor(p, [&](const std::string&, auto& b) { v.push_back({specs[i].name, specs[i].dims, b.to_host()}), ++i; });
        return v;
    };
    const auto scatter = [&](bert::cross_encoder_parameters<cpu::context>& p, const std::vector<train::named_tensor>& v) {
        std::size_t i = 0;
        bert::for_each_tensor(p, [&](const std::string&, auto& b) { b.assign(v.at(i++).data); });
    };

    train::artifact_store store(out / "artifacts", {.keep_last = rc.keep_last, .best_metric = "eval_mrr", .compress = false});
    const std::string artifact = "reranker-checkpoint";
    train::training_state st;
    st.rng_seed = static_cast<std::uint64_t>(tc.seed);
    double best_eval = NAN, last_loss = NAN;
    std::string artifact_tag;
    if (rc.resume && !store.versions(artifact).empty()) {
        const auto av = store.resolve(artifact, "latest");
        const auto files = store.fetch(artifact, "latest", out / ".resume");
        const auto ck = train::load_checkpoint(files.at(0), specs, config_json);
        scatter(model.params(), ck.params);
        scatter(adam_m, ck.adam_m);
        scatter(adam_v, ck.adam_v);
        st = ck.state;
        if (st.extra.contains("best_eval_mrr") && st.extra["best_eval_mrr"].is_number()) best_eval = st.extra["best_eval_mrr"].get<double>();
        if (st.extra.contains("last_loss") && st.extra["last_loss"].is_number()) last_loss = st.extra["last_loss"].get<double>();
        if (fusion) {
            const auto get = [&](const char* k) { return st.extra.at(k).get<float>(); };
            fw.assign({get("retriever_weight")});
            fw_m.assign({get("retriever_weight_m")});
            fw_v.assign({get("retriever_weight_v")});
            rr.set_retriever_weight(fw.to_host()[0]);
        }
        artifact_tag = av.tag();
        fs::remove_all(out / ".resume");
        std::fprintf(stderr, "resumed from %s %s at step %lld\n", artifact.c_str(), av.tag().c_str(), static_cast<long long>(st.step));
    } else if (rc.resume) {
        std::fprintf(stderr, "--resume: no checkpoint in %s yet; starting fresh\n", (out / "artifacts").string().c_str());
    }
    if (model.head_fresh() && st.step == 0) std::fprintf(stderr, "hoprag-train-reranker: pooler/classifier not in %s: initialised fresh\n", tc.model.c_str());

    const train::adamw_hparams hp{.weight_decay = static_cast<float>(tc.weight_decay)};
    const auto warmup = static_cast<std::int64_t>(std::llround(tc.warmup_ratio * static_cast<double>(schedule_steps)));
    const train::warmup_linear_lr sched(static_cast<float>(tc.lr), warmup, schedule_steps, 0.0f);
    train_cli::run_session session(out, rc.tensorboard, rc.time_limit, st.step, config_json);

    const auto evaluate = [&]() -> eval::retrieval_report {
        std::vector<data::hotpot_record> gold;
        std::unordered_map<std::string, std::vector<std::string>> ranked;
        for (const auto* r : evals) {
            gold.push_back(*r);
            // candidates: the retrieved passages, or (no retrieval line) the question's own paragraphs
            std::vector<comp::scored_passage> ps;
            if (const auto it = retrieval.by_id.find(r->id); it != retrieval.by_id.end()) ps = it->second;
            else
                for (const auto& para : r->context) {
                    ps.push_back({para.title, {}, 0.0f});
                    for (const auto& sent : para.sentences) ps.back().chunk += sent;
                }
            auto& titles = ranked[r->id];
            for (const auto& p : rr.rerank(r->question, ps, static_cast<std::size_t>(rc.eval_top))) titles.push_back(p.title);
        }
        return eval::evaluate_retrieval(gold, ranked, {2, 4, 8, 12});
    };
    const auto save = [&] {
        const auto t0 = std::chrono::steady_clock::now();
        train::checkpoint ck{gather(model.params()), gather(adam_m), gather(adam_v), st, config_json};
        ck.state.extra["best_eval_mrr"] = std::isfinite(best_eval) ? nlohmann::json(best_eval) : nlohmann::json();
        ck.state.extra["last_loss"] = std::isfinite(last_loss) ? nlohmann::json(last_loss) : nlohmann::json();
        if (fusion) {
            ck.state.extra["retriever_weight"] = fw.to_host()[0];
            ck.state.extra["retriever_weight_m"] = fw_m.to_host()[0];
            ck.state.extra["retriever_weight_v"] = fw_v.to_host()[0];
        }
        const auto file = out / "checkpoint.safetensors";
        train::save_checkpoint(file, ck);
        train::artifact_metadata meta;
        meta.step = st.step;
        meta.base_model = fs::path(tc.model).filename().string();
        meta.config_hash = train::config_hash(config_json);
        if (ck.state.extra.contains("last_eval_mrr")) meta.metrics["eval_mrr"] = ck.state.extra["last_eval_mrr"].get<double>();
        const auto av = store.log(artifact, {file}, meta);
        fs::remove(file);
        session.sync();
        artifact_tag = av.tag();
        session.budget.record_save(std::chrono::steady_clock::now() - t0);
    };

    std::string stop = "done";
    std::int64_t saved_at = rc.resume ? st.step : -1, evaluated_at = -1;
    const auto t_start = std::chrono::steady_clock::now();
    const std::int64_t start_step = st.step;
    std::int64_t pairs_done = 0;
    const auto run_eval = [&] {
        if (evals.empty() || evaluated_at == st.step) return;
        const auto rep = evaluate();
        evaluated_at = st.step;
        if (!(rep.mrr <= best_eval)) {
            best_eval = rep.mrr;
            model.save(out / "best-model");
            if (fusion) comp::save_fusion(out / "best-model", rr.retriever_weight());
        }
        st.extra["last_eval_mrr"] = rep.mrr;
        session.log(st.step, {{"eval_mrr", rep.mrr}, {"eval_both_at_2", rep.both_recall_at.at(2)}, {"eval_both_at_8", rep.both_recall_at.at(8)}});
    };
    while (st.step < total_steps) {
        if (const auto why = session.budget.check(); why != train::stop_reason::none) {
            stop = why == train::stop_reason::signal ? "signal" : "deadline";
            break;
        }
        const auto t0 = std::chrono::steady_clock::now();
        if (st.data_position + groups_per_step > static_cast<std::int64_t>(groups.size())) {
            ++st.epoch;
            st.data_position = 0;
        }
        const auto order = epoch_order(st.rng_seed, st.epoch, groups.size());
        st.rng_counter = 1000 + static_cast<std::uint64_t>(st.epoch) + 1;
        bert::zero(ctx, model.grads());
        rr.zero_fusion_grad();
        double loss = 0.0;
        for (std::int64_t g = 0; g < groups_per_step; ++g) {
            loss += rr.train_group(groups[order[static_cast<std::size_t>(st.data_position + g)]]);
            pairs_done += group_pairs;
        }
        loss /= static_cast<double>(groups_per_step);
        st.data_position += groups_per_step;
        const std::int64_t step_no = st.step + 1;
        fw_g.assign({rr.retriever_weight_grad()});
        const auto rep = train::inspect_grads(ctx, std::span<const train::adamw_tensor>(tensors), 1.0f, tc.max_grad_norm, groups_per_step);
        if (!std::isfinite(loss) || !rep.finite)
            throw hoprag::error("loss or gradients are not finite at step " + std::to_string(step_no) +
                                "; stopping without saving it (the last checkpoint is " + (artifact_tag.empty() ? "none" : artifact + ":" + artifact_tag) + ")");
        const float lr = sched.lr(st.step);
        // the classifier (last two tensors, and w with fusion) may learn faster than the body: it starts from scratch
        const std::span<const train::adamw_tensor> all(tensors);
        adamw_update(ctx, all.first(all.size() - n_head), train::make_adamw_step(hp, step_no, lr, rep.grad_scale));
        adamw_update(ctx, all.last(n_head), train::make_adamw_step(hp, step_no, lr * static_cast<float>(tc.classifier_lr_scale), rep.grad_scale));
        if (fusion) rr.set_retriever_weight(fw.to_host()[0]);
        ++st.step;
        last_loss = loss;
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
        std::vector<std::pair<std::string, double>> values{
            {"loss", loss}, {"lr", lr}, {"grad_norm", rep.norm}, {"pairs_per_s", double(pairs_done) / secs}, {"epoch", double(st.epoch)}};
        if (fusion) values.emplace_back("retriever_weight", rr.retriever_weight());
        session.log(st.step, values);
        if (rc.step_sleep_ms > 0) ::usleep(static_cast<useconds_t>(rc.step_sleep_ms * 1000));
        session.budget.record_step(std::chrono::steady_clock::now() - t0);
        if (st.step % rc.eval_steps == 0) run_eval();
        session.progress.print({st.step, total_steps, loss, -1.0, secs / double(st.step - start_step) * double(total_steps - st.step)});
        if (st.step % rc.save_steps == 0) {
            save();
            saved_at = st.step;
        }
    }
    session.progress.finish();
    if (stop == "done") run_eval();
    if (saved_at != st.step) save();
    model.save(out / "model");
    if (fusion) comp::save_fusion(out / "model", rr.retriever_weight());
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
    nlohmann::ordered_json res{{"steps", st.step},
                               {"loss", std::string(Loss::name)},
                               {"final_loss", std::isfinite(last_loss) ? nlohmann::ordered_json(last_loss) : nlohmann::ordered_json()},
                               {"best_eval_mrr", std::isfinite(best_eval) ? nlohmann::ordered_json(best_eval) : nlohmann::ordered_json()},
                               {"artifact", artifact + ":" + artifact_tag},
                               {"model", (out / "model").string()},
                               {"pairs_per_s", secs > 0 ? double(pairs_done) / secs : 0.0},
                               {"retriever_weight", rr.retriever_weight()},
                               {"stopped", stop}};
    return session.finish(stop, "done", st.step, res, argc, argv);
}

int run(int argc, char** argv) {
    train_config tc;
    run_config rc;
    train_cli::parse_config_and_flags(argc, argv, tc, rc);
    if (rc.out.empty() || tc.model.empty()) throw usage_error("--out DIR and --model DIR are required");
    if (tc.train.empty() && tc.dev.empty()) throw usage_error("give --train and/or --dev HotpotQA files");
    if (tc.batch < 2 || tc.negatives < 1 || tc.max_length < 8 || tc.epochs < 1 || rc.save_steps < 1 || rc.eval_steps < 1 ||
        rc.keep_last < 1 || rc.eval_top < 1)
        throw usage_error("need --batch >= 2, --negatives >= 1, --max-length >= 8, --epochs, --save-steps, --eval-steps, --keep-last, --eval-top >= 1");
    if (tc.loss == "margin") return train<comp::margin_loss>(tc, rc, argc, argv);
    if (tc.loss == "softmax") return train<comp::softmax_loss>(tc, rc, argc, argv);
    if (tc.loss == "bce") return train<comp::bce_loss>(tc, rc, argc, argv);
    throw usage_error("--loss must be margin, softmax or bce, got '" + tc.loss + "'");
}

}  // namespace

int main(int argc, char** argv) {
    return program::guarded_main("hoprag-train-reranker", usage, [&] { return run(argc, argv); });
}
