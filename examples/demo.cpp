// hoprag-demo: the main job of ./scripts/demo on the shipped data and models. For now it shows the
// foundation end to end on real inputs: it streams the HotpotQA samples, opens the real all-MiniLM
// (safetensors + WordPiece) and SmolLM2 (GGUF) models, and trains a small question-type classifier
// (bridge vs comparison) with the core op set: hashed WordPiece features -> MLP (GEMM, GELU,
// cross-entropy, explicit backward) -> AdamW, trained on the train sample and scored on the dev
// sample against the majority-class baseline. Progress goes to stderr; the last stdout line is
// one JSON object with the figures.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hoprag/backend/profile.hpp"
#include "hoprag/data/hotpotqa.hpp"
#include "hoprag/io/gguf.hpp"
#include "hoprag/io/safetensors_index.hpp"
#include "hoprag/models/llama/config.hpp"
#include "hoprag/models/mlp/mlp.hpp"
#include "hoprag/tokenizers/tokenizer_json.hpp"
#include "hoprag/train/adamw.hpp"
#include "hoprag/train/schedule.hpp"
#include "device_flag.hpp"

namespace fs = std::filesystem;
using namespace hoprag;

namespace {

constexpr const char* usage =
    "usage: hoprag-demo [--data DIR] [--models DIR] [--steps N] [--seed S]\n"
    "  --data DIR    HotpotQA folder with hotpot_train_sample.jsonl and hotpot_dev_sample.jsonl\n"
    "                (default ../shared/data/hotpotqa)\n"
    "  --models DIR  model folder made by scripts/setup (default .cache/models)\n"
    "  --steps N     classifier training steps (default 300)\n"
    "  --seed S      seed of every random choice (default 1)\n"
    "  --device D    cpu|cuda|auto: the backend of the classifier (auto: cuda when a GPU is present)\n"
    "Prints progress to stderr and one JSON object with the results as the last line of stdout.\n";

struct options {
    fs::path data = "../shared/data/hotpotqa";
    fs::path models = ".cache/models";
    std::int64_t steps = 300;
    std::uint64_t seed = 1;
    std::string device = "auto";
};

options parse(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) throw config_error(a + " needs a value");
            return argv[++i];
        };
        if (a == "--help" || a == "-h") {
            std::fputs(usage, stdout);
            std::exit(0);
        } else if (a == "--data") o.data = value();
        else if (a == "--models") o.models = value();
        else if (a == "--steps") o.steps = std::stoll(value());
        else if (a == "--seed") o.seed = std::stoull(value());
        else if (a == "--device") o.device = value();
        else throw config_error("unknown option " + a + " (see --help)");
    }
    return o;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// Bag of hashed WordPiece ids, L2-normalised: the classifier's input features.
std::vector<float> features(const tokenizers::tokenizer& tok, const std::vector<data::hotpot_record>& rs, std::int64_t dim) {
    std::vector<float> x(rs.size() * static_cast<std::size_t>(dim), 0.0f);
    for (std::size_t r = 0; r < rs.size(); ++r) {
        float* row = x.data() + r * static_cast<std::size_t>(dim);
        for (auto id : tok.encode(rs[r].question, false).ids) row[static_cast<std::uint32_t>(id) * 2654435761u % dim] += 1.0f;
        float norm = 0.0f;
        for (std::int64_t j = 0; j < dim; ++j) norm += row[j] * row[j];
        if (norm > 0.0f)
            for (std::int64_t j = 0; j < dim; ++j) row[j] /= std::sqrt(norm);
    }
    return x;
}

std::vector<std::int32_t> labels(const std::vector<data::hotpot_record>& rs) {
    std::vector<std::int32_t> y;
    for (const auto& r : rs) y.push_back(r.type == "comparison" ? 1 : 0);
    return y;
}

}  // namespace

int main(int argc, char** argv) try {
    const options opt = parse(argc, argv);
    nlohmann::json result;
    const auto t_start = std::chrono::steady_clock::now();

    // 1. machine
    const profile_info prof = select_profile(std::nullopt);
    std::fprintf(stderr, "[machine] profile %s (compute %s)\n", std::string(prof.name).c_str(),
                 std::string(dtype_name(prof.compute_type)).c_str());
    result["profile"] = prof.name;

    // 2. data
    auto t0 = std::chrono::steady_clock::now();
    const auto train = data::load_all(opt.data / "hotpot_train_sample.jsonl");
    const auto dev = data::load_all(opt.data / "hotpot_dev_sample.jsonl");
    const auto n_cmp = std::count_if(dev.begin(), dev.end(), [](const auto& r) { return r.type == "comparison"; });
    std::fprintf(stderr, "[data] %zu train + %zu dev questions (%lld dev comparison) in %.2f s\n", train.size(), dev.size(),
                 static_cast<long long>(n_cmp), seconds_since(t0));
    result["train_questions"] = train.size();
    result["dev_questions"] = dev.size();

    // 3. models
    const fs::path minilm = opt.models / "all-minilm-l6-v2";
    const io::safetensors_checkpoint bert(minilm);
    std::int64_t bert_params = 0;
    for (const auto& [name, t] : bert.tensors()) bert_params += t->numel();
    const auto tok = tokenizers::load_tokenizer_json(minilm / "tokenizer.json");
    const auto q_ids = tok.encode(dev.front().question).ids;
    std::fprintf(stderr, "[models] all-MiniLM-L6-v2: %zu tensors, %.1f M parameters; \"%s\" -> %zu WordPiece ids\n",
                 bert.tensors().size(), bert_params / 1e6, dev.front().question.c_str(), q_ids.size());
    const io::gguf_file smol(opt.models / "smollm2-135m-instruct" / "SmolLM2-135M-Instruct.Q4_1.gguf");
    const auto lc = models::llama::config_from_gguf(smol);
    std::fprintf(stderr, "[models] SmolLM2-135M-Instruct (GGUF v%u): %lld layers, hidden %lld, %lld heads / %lld KV heads, vocab %lld\n",
                 smol.version(), static_cast<long long>(lc.num_layers), static_cast<long long>(lc.hidden_size),
                 static_cast<long long>(lc.num_heads), static_cast<long long>(lc.num_kv_heads), static_cast<long long>(lc.vocab_size));
    result["minilm_parameters"] = bert_params;
    result["smollm2_layers"] = lc.num_layers;

    // 4. question-type classifier trained with the core op set
    t0 = std::chrono::steady_clock::now();
    program::run_on_device<true>("hoprag-demo", opt.device, [&]<class Backend>() {
        using context = typename Backend::context;
        context ctx(opt.seed);
        const mlp::config mc{.inputs = 512, .hidden = 64, .classes = 2};
        const auto xtr = features(tok, train, mc.inputs), xdev = features(tok, dev, mc.inputs);
        const auto ytr = labels(train), ydev = labels(dev);
        // inputs in backend memory (device memory on the GPU)
        const buffer<context, float> xtr_b(ctx, xtr), xdev_b(ctx, xdev);
        const buffer<context, std::int32_t> ytr_b(ctx, ytr), ydev_b(ctx, ydev);
        const auto n = static_cast<std::int64_t>(train.size()), nd = static_cast<std::int64_t>(dev.size());
        auto params = mlp::allocate_parameters(ctx, mc), grads = mlp::allocate_parameters(ctx, mc);
        auto m = mlp::allocate_parameters(ctx, mc), v = mlp::allocate_parameters(ctx, mc);
        mlp::initialize(ctx, mc, params);
        mlp::zero(ctx, m);
        mlp::zero(ctx, v);
        auto act = mlp::allocate_activations(ctx, mc, n);
        buffer<context, float> dlogits(ctx, static_cast<std::size_t>(n * mc.classes)), dhidden(ctx, static_cast<std::size_t>(n * mc.hidden));
        const auto tensors = mlp::adamw_tensors(params, m, v, grads);
        const train::adamw_hparams hp{.weight_decay = 0.01f};
        const train::warmup_cosine_lr sched(3e-3f, opt.steps / 10, opt.steps, 0.1f);
        double loss = 0.0;
        for (std::int64_t step = 0; step < opt.steps; ++step) {
            mlp::zero(ctx, grads);
            mlp::forward(ctx, mc, params, act, xtr_b.data(), ytr_b.data(), n);
            loss = 0.0;
            for (float l : act.loss.to_host()) loss += l / static_cast<double>(n);
            mlp::backward(ctx, mc, params, act, grads, dlogits, dhidden, xtr_b.data(), ytr_b.data(), n, n);
            adamw_update(ctx, std::span<const train::adamw_tensor>(tensors), train::make_adamw_step(hp, step + 1, sched.lr(step)));
            if ((step + 1) % 50 == 0) std::fprintf(stderr, "[classifier] step %lld/%lld loss %.4f\n", static_cast<long long>(step + 1),
                                                     static_cast<long long>(opt.steps), loss);
        }
        auto dev_act = mlp::allocate_activations(ctx, mc, nd);
        mlp::forward(ctx, mc, params, dev_act, xdev_b.data(), ydev_b.data(), nd);
        const auto logits = dev_act.logits.to_host();
        std::int64_t correct = 0;
        for (std::int64_t i = 0; i < nd; ++i) correct += (logits[2 * i + 1] > logits[2 * i]) == (ydev[static_cast<std::size_t>(i)] == 1);
        const double acc = static_cast<double>(correct) / static_cast<double>(nd);
        const double majority = std::max<double>(n_cmp, nd - n_cmp) / static_cast<double>(nd);
        std::fprintf(stderr, "[classifier] %lld parameters, train loss %.4f, dev accuracy %.3f (majority baseline %.3f) in %.2f s\n",
                     static_cast<long long>(mlp::count(params)), loss, acc, majority, seconds_since(t0));
        result["type_classifier"] = {{"train_loss", loss}, {"dev_accuracy", acc}, {"majority_baseline", majority}};
        return 0;
    });
    result["seconds"] = seconds_since(t_start);
    std::printf("%s\n", result.dump().c_str());
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "hoprag-demo: %s\n", e.what());
    return 1;
}
