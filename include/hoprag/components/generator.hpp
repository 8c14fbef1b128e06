// The design card's Generator<Quant, Adapter>: `generator<Quant, Adapter, Backend>` wires the
// Llama-family decoder (models/llama) to a quantisation policy and an adapter policy on a backend.
//  * Quant (quant::nf4 or quant::none): with nf4 every block linear (q, k, v, o, gate, up, down) of
//    any loaded base — GGUF (dequantised to f32 on read) or safetensors — is quantised to
//    double-quantised NF4 at load and the f32 copy released; embeddings, norms and the LM head stay
//    f32. With nf4 on a backend that has `bf16_gemv` (cpu) the LM head additionally gets a bf16
//    copy that decode and prefill use for the logits (half the bytes read per token); the f32 head
//    (the tied embedding) stays in model() for the embedding lookup and for training/backward.
//    set_bf16_head(false) drops the copy and goes back to the f32 head. With none the linears and
//    the head stay f32.
//  * Adapter (adapters::lora<R, Alpha, Targets> or adapters::none): a LoRA on each targeted linear
//    (fresh: A Kaiming-uniform, B zero, so the output equals the base), loadable from and savable
//    to a PEFT folder.
// Forward and generate run the decoder with a Linears functor that calls nn::adapted_forward
// (base GEMM or NF4 dequantise-GEMM, plus scale * B A x).
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "hoprag/adapters/lora.hpp"
#include "hoprag/adapters/none.hpp"
#include "hoprag/backend/concept.hpp"
#include "hoprag/core/dtype.hpp"
#include "hoprag/models/llama/forward.hpp"
#include "hoprag/models/llama/generate.hpp"
#include "hoprag/models/llama/lora.hpp"
#include "hoprag/models/llama/peft.hpp"
#include "hoprag/models/llama/weights.hpp"
#include "hoprag/nn/frozen_linear.hpp"
#include "hoprag/nn/lora.hpp"
#include "hoprag/quant/concept.hpp"
#include "hoprag/quant/nf4.hpp"
#include "hoprag/quant/none.hpp"

namespace hoprag::components {

/// True when the backend of Context has a bf16 matrix-vector product (cpu::bf16_gemv).
template <class Context>
concept has_bf16_gemv = requires(Context& c, float* y, const float* x, const bf16* w, std::int64_t n) { bf16_gemv(c, y, x, w, n, n, n); };

/// Generator<Quant, Adapter> on `Backend` (cpu::backend or cuda::backend).
template <class Quant, class Adapter, class Backend>
class generator {
    static_assert(quant::quant_policy<Quant>,
                  "generator<Quant, Adapter, Backend>: Quant is not a quantisation policy: it needs static members `name`, "
                  "`bits_per_parameter` and `quantizes` (use quant::nf4 or quant::none)");
    static_assert(adapters::adapter_policy<Adapter>,
                  "generator<Quant, Adapter, Backend>: Adapter is not an adapter policy: it needs static members `name`, `enabled`, "
                  "`rank`, `alpha`, `scale` and `targets` (use adapters::lora<Rank, Alpha, Targets> or adapters::none)");
    static_assert(backend<Backend>,
                  "generator<Quant, Adapter, Backend>: Backend is not a backend policy: it needs a `context` derived from "
                  "hoprag::context, a `name` and the op set (include hoprag/cpu/backend.hpp or hoprag/cuda/backend.hpp and pass "
                  "cpu::backend or cuda::backend)");

public:
    using context = typename Backend::context;
    using backend_policy = Backend;
    using quant_policy = Quant;
    using adapter_policy = Adapter;
    using linear_table = std::vector<std::array<nn::frozen_linear<context>, adapters::target_count>>;

    /// Loads the decoder from `src` (config c) tensor by tensor, quantising each block linear to
    /// NF4 on the host as it arrives when Quant::quantizes (backend memory never holds the f32
    /// linears), and, when Adapter::enabled, creates fresh adapters from `seed`.
    generator(context& ctx, const models::llama::config& c, const models::llama::weight_source& src, std::uint64_t seed = 0)
        : ctx_(&ctx), base_(static_cast<std::size_t>(std::max<std::int64_t>(0, c.num_layers))) {
        const auto shapes = models::llama::layer_shapes(c);
        model_ = models::llama::load_weights(ctx, c, src, [&](std::size_t l, std::size_t field, std::span<const float> w) {
            std::size_t i = 0;
            while (models::llama::layer_field_of(adapters::all_target_list[i]) != field) ++i;
            const auto& s = shapes[field];
            auto& f = base_[l][i];
            if constexpr (Quant::quantizes) {
                if ((s[0] * s[1]) % quant::nf4_block != 0)
                    throw config_error(src.origin + ": layer " + std::to_string(l) + " " + std::string(adapters::peft_module_names[i]) + " has " +
                                       std::to_string(s[0] * s[1]) + " weights, not a multiple of the NF4 block size 64");
                f = nn::make_nf4(ctx, w, s[0], s[1]);
            } else {
                f = nn::make_dense(ctx, w, s[0], s[1]);
            }
        });
        if constexpr (Adapter::enabled) lora_ = models::llama::make_lora_adapters<Adapter>(ctx, c, seed);
        if constexpr (Quant::quantizes && has_bf16_gemv<context>) set_bf16_head(true);
    }

    /// Whether the LM head runs from a bf16 copy (nf4 on a backend with bf16_gemv; on by default).
    bool bf16_head() const { return head16_.size() != 0; }
    /// Makes (on) or drops (off) the bf16 copy of the LM head; without it the f32 head is used.
    void set_bf16_head(bool on) requires(has_bf16_gemv<context>) {
        if (!on) {
            head16_ = buffer<context, bf16>();
            return;
        }
        const auto w = model_.cfg.tie_word_embeddings ? model_.embed.to_host() : model_.lm_head.to_host();
        std::vector<bf16> h(w.size());
        const auto n = static_cast<std::int64_t>(w.size());
#ifdef _OPENMP
#pragma omp parallel for schedule(static)
#endif
        for (std::int64_t i = 0; i < n; ++i) h[static_cast<std::size_t>(i)] = bf16::from_float(w[static_cast<std::size_t>(i)]);
        head16_ = buffer<context, bf16>(*ctx_, h);
    }

    /// From a GGUF Llama/Mistral file (kept open only during the constructor), in Hugging Face's
    /// Q/K row layout so LoRA q_proj / k_proj rows line up with PEFT adapters of the HF model.
    static generator from_gguf(context& ctx, const std::filesystem::path& path, std::uint64_t seed = 0) {
        const io::gguf_file g(path);
        const auto c = models::llama::config_from_gguf(g);
        return generator(ctx, c, models::llama::gguf_source_hf_layout(g, c), seed);
    }
    /// From a Hugging Face folder (config.json + safetensors).
    static generator from_hf(context& ctx, const std::filesystem::path& folder, std::uint64_t seed = 0) {
        const io::safetensors_checkpoint ck(folder);
        return generator(ctx, models::llama::load_config(folder), models::llama::hf_source(ck, folder.string()), seed);
    }

    const models::llama::config& config() const { return model_.cfg; }
    /// Decoder weights outside the block linears (embedding, norms, LM head).
    const models::llama::weights<context>& model() const { return model_; }
    /// The frozen base of (layer, t).
    const nn::frozen_linear<context>& base(std::size_t layer, adapters::target t) const { return base_.at(layer)[static_cast<std::size_t>(t)]; }
    /// The type the block linears' GEMM inputs are rounded to (f32 at load; see set_compute_type).
    dtype compute_type() const { return compute_; }
    /// Mixed precision (backend/compute_gemm.hpp): the block linears multiply in `t` (f32, or bf16 /
    /// f16 with f32 accumulation; frozen NF4 weights decode straight to it). Activations, the LoRA
    /// adapters and the LM head stay f32.
    void set_compute_type(dtype t) {
        check_compute_type(t, "generator::set_compute_type");
        compute_ = t;
        for (auto& layer : base_)
            for (auto& f : layer) f.compute = t;
    }
    /// Bytes of all block linears in backend memory.
    std::size_t linear_bytes() const {
        std::size_t n = 0;
        for (const auto& layer : base_)
            for (const auto& f : layer) n += f.storage_bytes();
        return n;
    }

    /// The adapters (Adapter::enabled only).
    adapters::lora_adapters<context>& adapter() requires(Adapter::enabled) { return lora_; }
    const adapters::lora_adapters<context>& adapter() const requires(Adapter::enabled) { return lora_; }
    /// Replaces the adapters with a PEFT folder; its rank must be Adapter::rank and its targets Adapter::targets.
    void load_adapter(const std::filesystem::path& dir) requires(Adapter::enabled) {
        auto a = models::llama::load_peft(*ctx_, dir, model_.cfg);
        if (a.rank != Adapter::rank || !(a.targets == Adapter::targets))
            throw config_error(dir.string() + ": adapter has rank " + std::to_string(a.rank) + " and " + std::to_string(a.targets.size()) +
                               " target modules; this generator's policy wants rank " + std::to_string(Adapter::rank) + " and " +
                               std::to_string(Adapter::targets.size()));
        lora_ = std::move(a);
    }
    /// Writes the adapters as a PEFT folder.
    void save_adapter(const std::filesystem::path& dir, const std::string& base_model_name_or_path) const requires(Adapter::enabled) {
        models::llama::save_peft(dir, lora_, base_model_name_or_path);
    }

    /// The Linears functor of this generator (base + adapter on each block linear).
    struct linears {
        const linear_table* base;
        const adapters::lora_adapters<context>* lora;  // nullptr without adapters
        const buffer<context, bf16>* head16 = nullptr;  // bf16 LM head; nullptr or empty: the f32 head
        void operator()(context& ctx, const models::llama::layer_weights<context>&, std::size_t layer, adapters::target t, float* out,
                        const float* x, std::int64_t rows, std::int64_t, std::int64_t, float beta) const {
            nn::adapted_forward(ctx, (*base)[layer][static_cast<std::size_t>(t)], lora ? lora->find(layer, t) : nullptr, out, x, rows, beta);
        }
        /// logits [rows, vocab] = x [rows, hidden] head^T, from the bf16 copy when there is one.
        void head(context& ctx, const models::llama::weights<context>& m, float* logits, const float* x, std::int64_t rows) const
            requires(has_bf16_gemv<context>) {
            if (head16 && head16->size() != 0)
                bf16_gemv(ctx, logits, x, head16->data(), rows, m.cfg.vocab_size, m.cfg.hidden_size);
            else
                models::llama::detail::linear(ctx, logits, x, m.head(), rows, m.cfg.hidden_size, m.cfg.vocab_size);
        }
    };
    linears make_linears() const { return {&base_, Adapter::enabled ? &lora_ : nullptr, &head16_}; }

    /// Logits [batch, vocab] of ids [batch, seq] (see models::llama::forward), adapters applied.
    std::vector<float> forward(std::span<const std::int32_t> ids, std::int64_t batch, std::int64_t seq, std::span<const std::int64_t> last = {},
                               models::llama::kv_cache<context>* cache = nullptr) const {
        return models::llama::forward(*ctx_, model_, cache, ids, batch, seq, last, make_linears());
    }

    /// Generates a continuation of `prompt` (see models::llama::generate), adapters applied.
    models::llama::generation generate(std::span<const std::int32_t> prompt, const models::llama::generate_options& o,
                                       const std::function<std::string(std::span<const std::int32_t>)>& decode = {}) const {
        return models::llama::generate(*ctx_, model_, prompt, o, decode, make_linears());
    }

private:
    context* ctx_;
    models::llama::weights<context> model_;
    linear_table base_;
    adapters::lora_adapters<context> lora_;
    buffer<context, bf16> head16_;  // [vocab, hidden] bf16 LM head (nf4 on cpu), else empty
    dtype compute_ = dtype::f32;
};

}  // namespace hoprag::components
