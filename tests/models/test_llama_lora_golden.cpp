// LoRA gradient parity with PEFT on SmolLM2-135M-Instruct (golden data from
// tests/golden/make_llama_lora_grad_golden.py: transformers' Llama + PEFT LoRA r=16, alpha=32, all
// seven linears, on weights dequantised from the same GGUF). The GGUF is loaded in Hugging Face's
// layout (llama::gguf_source_hf_layout: Q/K rows un-permuted, rotate-half RoPE), so PEFT's adapter
// applies unchanged. A and B come from the script's splitmix64 generator (reproduced here), go
// through a PEFT folder (save_peft + load_adapter), and the loss and the A/B gradients of layers 0, 14 and 29 must match:
// relative error <= 1e-3 on the stored slices and on the full-tensor norms, NF4 off (f32 base) and
// on (the script's numpy NF4 port; its dequantised weights are checked against hoprag's first).
// Under AddressSanitizer only the short case (seq 16, f32) runs, to keep the run in seconds.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hoprag/components/generator.hpp"
#include "hoprag/cpu/backend.hpp"
#include "hoprag/io/gguf.hpp"
#include "hoprag/io/safetensors.hpp"
#include "hoprag/models/llama/train.hpp"
#include "support/files.hpp"
#include "support/reference.hpp"

using namespace hoprag;
namespace llama = hoprag::models::llama;

namespace {

const std::string golden_dir = test::source_dir() + "/tests/golden/";
const std::string gguf_path = test::source_dir() + "/.cache/models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf";

/// The script's splitmix_unit: u[i] = top 24 bits of splitmix64(seed * golden + (k << 32) + i) / 2^24.
std::vector<double> splitmix_unit(std::uint64_t seed, std::uint64_t k, std::size_t n) {
    std::vector<double> u(n);
    const std::uint64_t base = seed * 0x9E3779B97F4A7C15ull + (k << 32);
    for (std::size_t i = 0; i < n; ++i) {
        std::uint64_t z = base + i + 0x9E3779B97F4A7C15ull;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        z ^= z >> 31;
        u[i] = double(z >> 40) / double(1 << 24);
    }
    return u;
}

/// The script's lora_values for every adapter.
template <class Context>
void set_golden_adapters(adapters::lora_adapters<Context>& a, std::uint64_t seed) {
    for (std::size_t l = 0; l < a.layers.size(); ++l)
        for (auto t : adapters::all_target_list) {
            auto* m = a.find(l, t);
            REQUIRE(m);
            const std::uint64_t k = 2 * (7 * l + static_cast<std::uint64_t>(t));
            const double bound = 1.0 / std::sqrt(double(m->in));
            auto ua = splitmix_unit(seed, k, m->a.size()), ub = splitmix_unit(seed, k + 1, m->b.size());
            std::vector<float> va(ua.size()), vb(ub.size());
            for (std::size_t i = 0; i < va.size(); ++i) va[i] = static_cast<float>((2.0 * ua[i] - 1.0) * bound);
            for (std::size_t i = 0; i < vb.size(); ++i) vb[i] = static_cast<float>((2.0 * ub[i] - 1.0) * 0.02);
            m->a.assign(va), m->b.assign(vb);
        }
}

double rel_error(const std::vector<float>& got, const std::vector<float>& want) {
    double num = 0, den = 0;
    for (std::size_t i = 0; i < got.size(); ++i) num += (double(got[i]) - want[i]) * (double(got[i]) - want[i]), den += double(want[i]) * want[i];
    return std::sqrt(num / den);
}

/// Runs the golden cases `names` on one generator of type Gen loaded from the GGUF.
template <class Gen>
void check_cases(cpu::context& ctx, const io::gguf_file& g, std::initializer_list<const char*> names, const nlohmann::json& gold,
                 const io::safetensors_file& st) {
    const auto c = llama::config_from_gguf(g);
    Gen gen(ctx, c, llama::gguf_source_hf_layout(g, c));
    for (const std::string name : names) {
    const nlohmann::json& cs = gold["cases"][name];
    const auto seed = gold["seed"].get<std::uint64_t>();
    // adapters through a PEFT folder
    set_golden_adapters(gen.adapter(), seed);
    const auto dir = test::fresh_dir("llama_lora_golden_" + name);
    gen.save_adapter(dir, "HuggingFaceTB/SmolLM2-135M-Instruct");
    set_golden_adapters(gen.adapter(), seed + 1);  // different values, replaced by the load
    gen.load_adapter(dir);

    if constexpr (std::is_same_v<Gen, components::generator<quant::nf4, adapters::lora<16, 32>, cpu::backend>>) {
        for (auto it = gold["nf4_weights"].begin(); it != gold["nf4_weights"].end(); ++it) {
            const auto dot = it.key().find('.');
            const std::size_t layer = std::stoul(it.key().substr(0, dot));
            const std::string path = it.key().substr(dot + 1);
            std::size_t t = 0;
            while (adapters::hf_module_paths[t] != path) ++t;
            const auto& w = gen.base(layer, adapters::all_target_list[t]).nf4;
            std::vector<float> d(static_cast<std::size_t>(w.rows * w.cols));
            quant::nf4_dequantize_rows(w.view(), 0, w.rows, d.data());
            double sum = 0, sumsq = 0;
            for (float v : d) sum += v, sumsq += double(v) * v;
            INFO("nf4 weights " << it.key() << ": sum " << sum << " vs " << it.value()["sum"] << ", sumsq " << sumsq << " vs " << it.value()["sumsq"]);
            CHECK(std::abs(sumsq - it.value()["sumsq"].get<double>()) <= 1e-6 * sumsq);
            CHECK(std::abs(sum - it.value()["sum"].get<double>()) <= 1e-6 * std::sqrt(sumsq * double(d.size())));
        }
    }

    std::vector<std::int32_t> ids, labels;
    for (const auto& r : cs["ids"]) for (const auto& v : r) ids.push_back(v.get<std::int32_t>());
    for (const auto& r : cs["labels"]) for (const auto& v : r) labels.push_back(v.get<std::int32_t>());
    const std::int64_t batch = static_cast<std::int64_t>(cs["ids"].size()), seq = static_cast<std::int64_t>(ids.size()) / batch;
    auto grads = adapters::make_lora_grad_set(ctx, gen.adapter());
    const float loss = llama::loss_and_grads(ctx, gen, ids, labels, batch, seq, grads);
    const double want_loss = cs["loss"].get<double>();
    INFO(name << ": loss " << loss << " vs PEFT " << want_loss);
    CHECK(std::abs(loss - want_loss) <= 1e-4 * want_loss);
    const auto slice = gold["slice"].get<std::int64_t>();
    double worst = 0;
    for (const auto& lj : gold["layers"]) {
        const auto l = lj.get<std::size_t>();
        for (auto t : adapters::all_target_list)
            for (bool is_a : {true, false}) {
                const std::string key = name + "." + std::to_string(l) + "." + std::string(adapters::peft_module_names[std::size_t(t)]) +
                                        (is_a ? ".lora_A" : ".lora_B");
                const auto full = (is_a ? grads.at(l, t).da : grads.at(l, t).db).to_host();
                const auto* m = gen.adapter().find(l, t);
                std::vector<float> got;
                if (is_a) {
                    for (std::int64_t r = 0; r < m->rank; ++r) got.insert(got.end(), full.begin() + r * m->in, full.begin() + r * m->in + slice);
                } else {
                    got.assign(full.begin(), full.begin() + slice * m->rank);
                }
                const auto want = st.at(key).to_f32();
                double norm = 0;
                for (float v : full) norm += double(v) * v;
                norm = std::sqrt(norm);
                const double want_norm = cs["norms"][key].get<double>();
                const double e = rel_error(got, want), en = std::abs(norm - want_norm) / want_norm;
                worst = std::max({worst, e, en});
                INFO(key << ": slice relative error " << e << ", norm " << norm << " vs " << want_norm);
                CHECK(e <= 1e-3);
                CHECK(en <= 1e-3);
            }
    }
    WARN(name << ": loss " << loss << " (PEFT " << want_loss << "), worst gradient relative error " << worst);
    }
}

}  // namespace

TEST_CASE("llama lora gradients match PEFT on SmolLM2-135M", "[llama][train][golden]") {
    std::ifstream f(golden_dir + "llama_lora_grad.json");
    REQUIRE(f.good());
    const auto gold = nlohmann::json::parse(f);
    const io::safetensors_file st(golden_dir + "llama_lora_grad.safetensors");
    using f32_gen = components::generator<quant::none, adapters::lora<16, 32>, cpu::backend>;
    using nf4_gen = components::generator<quant::nf4, adapters::lora<16, 32>, cpu::backend>;
    cpu::context ctx;
    const io::gguf_file g(gguf_path);
#if defined(__SANITIZE_ADDRESS__)
    check_cases<f32_gen>(ctx, g, {"short"}, gold, st);
#else
    check_cases<f32_gen>(ctx, g, {"short", "f32"}, gold, st);
    check_cases<nf4_gen>(ctx, g, {"nf4"}, gold, st);
#endif
}
