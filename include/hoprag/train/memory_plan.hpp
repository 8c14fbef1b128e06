// Memory plan of a Llama-family decoder (DESIGN rule 4): before a run starts, `plan_memory` adds up
// the bytes a QLoRA training step (or an inference prefill with a KV cache) needs on a hardware
// profile — base weights, adapters, gradients, optimiser state, activations, logits, KV cache,
// workspace and a reserve for the CUDA context — and says whether they fit the profile's memory;
// `require_fits` refuses a plan that does not, naming its largest term. Every term carries the
// formula it was computed from, so a user can check it by hand. Sizes follow the hoprag decoder
// (models/llama/forward.hpp): attention keeps its probabilities [batch, heads, seq, seq] (no flash
// attention); activations, LoRA weights, gradients, AdamW moments and logits are fp32 in memory and
// the profile's compute type is the type the block linears' GEMM inputs are rounded to
// (backend/compute_gemm.hpp).
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hoprag/adapters/targets.hpp"
#include "hoprag/backend/profile.hpp"
#include "hoprag/core/dtype.hpp"
#include "hoprag/core/error.hpp"
#include "hoprag/quant/nf4.hpp"
#include "hoprag/quant/nf4_gemm.hpp"

namespace hoprag::train {

/// How the block linears (q, k, v, o, gate, up, down) are stored.
enum class plan_quant { none, nf4 };
/// A training step (gradients, optimiser, saved activations) or inference (KV cache).
enum class plan_mode { training, inference };

inline constexpr std::size_t mib = std::size_t{1} << 20;
/// cuBLASLt workspace the CUDA context allocates (GPU profiles).
inline constexpr std::size_t cublaslt_workspace_bytes = 32 * mib;
/// Default reserve on a GPU profile for the CUDA context, cuBLASLt handle and allocator slack.
inline constexpr std::size_t gpu_context_reserve_bytes = 512 * mib;

/// What to plan for.
struct memory_request {
    std::int64_t seq = 0;    ///< tokens per sequence (> 0)
    std::int64_t batch = 1;  ///< sequences per step (> 0)
    plan_quant quant = plan_quant::nf4;
    std::int64_t lora_rank = 16;                        ///< 0 = no adapter
    adapters::target_set lora_targets = adapters::all_targets;
    bool checkpointing = true;                          ///< training: keep layer inputs, recompute in backward
    plan_mode mode = plan_mode::training;
    std::size_t memory_bytes = 0;                       ///< budget; 0 = the profile's memory_bytes
    std::int64_t reserve_bytes = -1;                    ///< -1 = gpu_context_reserve_bytes on GPU profiles, 0 on cpu
    std::size_t source_dtype_bytes = 2;                 ///< bytes per weight in the checkpoint (bf16/f16 2, f32 4)
};

/// One line of the plan.
struct memory_term {
    std::string name;     ///< e.g. "activations"
    std::size_t bytes = 0;
    std::string formula;  ///< how `bytes` was computed
};

/// The plan: terms, their total, the budget and the verdict.
struct memory_plan {
    std::string profile;
    memory_request request;
    std::vector<memory_term> terms;  ///< the reserve is the last term
    std::size_t total = 0;           ///< sum of terms
    std::size_t budget = 0;          ///< memory the profile may use
    bool fits = false;               ///< total <= budget
    std::int64_t parameters = 0;     ///< base parameters of the decoder
    std::int64_t adapter_parameters = 0;
    /// Peak memory while loading (models::llama::load_weights streaming into NF4): host = one f32
    /// staging tensor + that tensor's mapped checkpoint pages (+ the whole resident model on the
    /// cpu profile, where backend memory is host memory, and with NF4 the bf16 copy of the LM
    /// head); device (GPU profiles) = the resident model as loaded: base linears + f32
    /// embeddings, head and norms.
    memory_term load_host, load_device;

    /// The term with the most bytes.
    const memory_term& largest() const {
        return *std::max_element(terms.begin(), terms.end(), [](const memory_term& a, const memory_term& b) { return a.bytes < b.bytes; });
    }
    /// Bytes of the term called `name` (0 when absent).
    std::size_t bytes_of(const std::string& name) const {
        for (const auto& t : terms)
            if (t.name == name) return t.bytes;
        return 0;
    }
};

namespace detail {
inline std::string gib_text(std::size_t bytes) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f GiB", static_cast<double>(bytes) / static_cast<double>(gib));
    return buf;
}
/// Bytes of one [rows, cols] matrix as double-quantised NF4 (quant::nf4_tensor's storage):
/// codes n/2, int8 absmax n/64, fp32 second-level scales ceil(n/64/256), one fp32 offset.
inline std::size_t nf4_matrix_bytes(std::int64_t n) {
    const std::int64_t blocks = n / quant::nf4_block;
    return static_cast<std::size_t>(n / 2 + blocks + 4 * ((blocks + quant::nf4_absmax_block - 1) / quant::nf4_absmax_block) + 4);
}
}  // namespace detail

/// What plan_memory reads of a decoder's config (models::llama::config is one): the sizes, whether
/// the embeddings are tied, and `validate(origin)` (throws config_error on a bad field).
template <class C>
concept decoder_shape = requires(const C& c, const std::string& origin) {
    { c.num_layers } -> std::convertible_to<std::int64_t>;
    { c.hidden_size } -> std::convertible_to<std::int64_t>;
    { c.num_heads } -> std::convertible_to<std::int64_t>;
    { c.num_kv_heads } -> std::convertible_to<std::int64_t>;
    { c.head_dim } -> std::convertible_to<std::int64_t>;
    { c.intermediate_size } -> std::convertible_to<std::int64_t>;
    { c.vocab_size } -> std::convertible_to<std::int64_t>;
    { c.tie_word_embeddings } -> std::convertible_to<bool>;
    c.validate(origin);
};

/// The memory plan of decoder `c` on profile `p` for request `r`. Throws config_error for a
/// non-positive seq/batch or rank, or an NF4 linear whose size is not a multiple of 64.
///
/// Terms (s = dtype size of the profile's compute type, the type of the GEMM inputs; activations,
/// gradients and everything trained are f32 in memory; N = batch * seq tokens; L layers; H hidden;
/// Q = heads * head_dim; K = kv_heads * head_dim; F FFN width; V vocab; nh heads; r rank):
///  * base linears: NF4 per matrix n/2 + n/64 + 4 ceil(n/16384) + 4 bytes (~4.127 bits/param), or n * 4
///  * base embeddings, head and norms: (V H [+ V H untied] + (2L + 1) H) * 4, plus with NF4 on the
///    cpu profile the bf16 copy of the LM head V H * 2
///  * adapters: P_lora * 4 (fp32), P_lora = sum r (in + out)
///  * gradients (training): P_lora * 4; optimiser (training): P_lora * 8 (AdamW m and v, fp32)
///  * activations (training), per layer and token: A = (4H + 2Q + 2K + 3F + 7r) * 4 + 8 (the block's
///    input, two normed inputs, q, k, v, attention output, residual, gate, up, SwiGLU output, the
///    seven LoRA intermediates, two rstd), plus per layer and sequence nh * seq^2 * 4 attention
///    probabilities. Without checkpointing: L (N A + batch nh seq^2 4). With checkpointing: the
///    layer inputs L N H 4 plus one layer recomputed, N A + batch nh seq^2 4.
///  * backward scratch (training): one layer's gradients in flight, N (2H + Q + 2K + 2F) 4 + batch nh seq^2 4
///  * logits: training N V * 4 (fp32; the cross-entropy gradient overwrites them), inference batch V * 4
///  * KV cache (inference): 2 L N K 4. Inference activations: one layer's forward, N A + batch nh seq^2 4
///  * workspace: cuBLASLt 32 MiB (GPU) plus the dequantise-GEMM's scratch: a decoded tile of the
///    widest linear, min(out, tile rows) * in * s (tile rows: quant::nf4_tile_rows_gpu / _cpu; an
///    unquantised base in a 16-bit compute type: its whole rounded copy), and with s < 4 the
///    rounded GEMM input N * F * s
///  * reserve: CUDA context etc. (512 MiB on GPU profiles unless given)
template <decoder_shape Config>
memory_plan plan_memory(const Config& c, const profile_info& p, const memory_request& r) {
    if (r.seq <= 0 || r.batch <= 0)
        throw config_error("plan_memory: seq and batch must be > 0, got seq " + std::to_string(r.seq) + " and batch " + std::to_string(r.batch));
    if (r.lora_rank < 0) throw config_error("plan_memory: LoRA rank must be >= 0, got " + std::to_string(r.lora_rank));
    c.validate("plan_memory");
    using u = std::size_t;
    const auto z = [](std::int64_t x) { return static_cast<u>(x); };
    const std::int64_t L = c.num_layers, H = c.hidden_size, Q = c.num_heads * c.head_dim, K = c.num_kv_heads * c.head_dim;
    const std::int64_t F = c.intermediate_size, V = c.vocab_size, nh = c.num_heads, S = r.seq, B = r.batch, N = B * S;
    const std::int64_t rank = r.lora_rank;
    const u s = dtype_size(p.compute_type);
    const bool training = r.mode == plan_mode::training, nf4 = r.quant == plan_quant::nf4;
    const std::string ss = std::to_string(s);

    memory_plan plan;
    plan.profile = std::string(p.name);
    plan.request = r;
    plan.budget = r.memory_bytes ? r.memory_bytes : p.memory_bytes;
    const auto add = [&](std::string name, u bytes, std::string formula) { plan.terms.push_back({std::move(name), bytes, std::move(formula)}); };

    // the seven block linears [out, in]
    const std::int64_t shapes[adapters::target_count][2] = {{Q, H}, {K, H}, {K, H}, {H, Q}, {F, H}, {F, H}, {H, F}};
    const std::int64_t tile_rows = p.gpu ? quant::nf4_tile_rows_gpu : quant::nf4_tile_rows_cpu;
    u linear_bytes = 0, largest_linear = 0, largest_tile = 0;
    std::int64_t linear_params = 0, lora_per_layer = 0, lora_targets = 0, widest = 0;
    for (std::size_t t = 0; t < adapters::target_count; ++t) {
        const std::int64_t n = shapes[t][0] * shapes[t][1];
        if (nf4 && n % quant::nf4_block != 0)
            throw config_error("plan_memory: the " + std::string(adapters::peft_module_names[t]) + " matrix has " + std::to_string(n) +
                               " weights, not a multiple of the NF4 block size 64");
        linear_params += n;
        linear_bytes += nf4 ? detail::nf4_matrix_bytes(n) : z(n) * 4;
        largest_linear = std::max(largest_linear, z(n));
        largest_tile = std::max(largest_tile, z(std::min(shapes[t][0], tile_rows) * shapes[t][1]));
        widest = std::max({widest, shapes[t][0], shapes[t][1]});
        if (rank > 0 && r.lora_targets.contains(adapters::all_target_list[t])) {
            lora_per_layer += rank * (shapes[t][0] + shapes[t][1]);
            ++lora_targets;
        }
    }
    const std::int64_t other_params = V * H * (c.tie_word_embeddings ? 1 : 2) + (2 * L + 1) * H;
    plan.parameters = L * linear_params + other_params;
    plan.adapter_parameters = L * lora_per_layer;
    const u P = z(plan.adapter_parameters);
    const u head16 = nf4 && !p.gpu ? z(V * H) * 2 : 0;  // the CPU NF4 generator's bf16 LM head copy

    add("base linears", z(L) * linear_bytes,
        nf4 ? std::to_string(L * linear_params) + " params as NF4 + double-quantised absmax (~4.127 bits/param)"
            : std::to_string(L * linear_params) + " params x 4 B");
    add("base embeddings, head, norms", z(other_params) * 4 + head16,
        std::to_string(other_params) + " params x 4 B" + std::string(head16 ? " + bf16 LM head copy V*H*2 B" : ""));
    if (P > 0)
        add("adapters", P * 4, std::to_string(P) + " LoRA params (r=" + std::to_string(rank) + ", " + std::to_string(lora_targets) + " targets) x 4 B fp32");
    const u probs = z(B * nh * S * S) * 4;
    const u per_token = z(4 * H + 2 * Q + 2 * K + 3 * F + 7 * (rank > 0 ? rank : 0)) * 4 + 8;
    const u one_layer = z(N) * per_token + probs;
    if (training) {
        if (P == 0) throw config_error("plan_memory: training needs an adapter (LoRA rank > 0); only the adapters are trained");
        add("gradients", P * 4, std::to_string(P) + " LoRA params x 4 B (fp32)");
        add("optimiser state", P * 8, std::to_string(P) + " LoRA params x 8 B (AdamW m, v fp32)");
        if (r.checkpointing)
            add("activations", z(L * N * H) * 4 + one_layer,
                "checkpointed: layer inputs L*N*H*4 B + one layer recomputed (N*" + std::to_string(per_token) +
                    " B + attention probs batch*heads*seq^2*4 B)");
        else
            add("activations", z(L) * one_layer, "L * (N*" + std::to_string(per_token) + " B + attention probs batch*heads*seq^2*4 B)");
        add("backward scratch", z(N * (2 * H + Q + 2 * K + 2 * F)) * 4 + probs,
            "one layer's gradients N*(2H+Q+2K+2F)*4 B + attention probs' gradient");
        add("logits", z(N * V) * 4, "N*V*4 B (fp32, gradient in place)");
    } else {
        add("KV cache", z(2 * L * N * K) * 4, "2*L*N*K*4 B");
        add("activations", one_layer, "one layer's forward: N*" + std::to_string(per_token) + " B + attention probs");
        add("logits", z(B * V) * 4, "batch*V*4 B (last position, fp32)");
    }
    const u decoded = nf4 ? largest_tile * s : (s < 4 ? largest_linear * s : 0);
    const u rounded_input = s < 4 ? z(N * widest) * s : 0;
    add("workspace", (p.gpu ? cublaslt_workspace_bytes : 0) + decoded + rounded_input,
        std::string(p.gpu ? "cuBLASLt 32 MiB + " : "") +
            (nf4 ? "NF4 tile of " + std::to_string(tile_rows) + " rows of the widest linear x " + ss + " B"
                 : s < 4 ? "rounded copy of the largest linear x " + ss + " B" : "no dequantisation") +
            (s < 4 ? " + rounded GEMM input N*F*" + ss + " B" : ""));
    const u reserve = r.reserve_bytes >= 0 ? z(r.reserve_bytes) : (p.gpu ? gpu_context_reserve_bytes : 0);
    add("reserve", reserve, p.gpu ? "CUDA context, cuBLASLt handle, allocator slack" : "none on cpu");
    for (const auto& t : plan.terms) plan.total += t.bytes;
    plan.fits = plan.total <= plan.budget;

    const u largest_tensor = std::max({z(V * H), largest_linear});
    const u resident = z(L) * linear_bytes + z(other_params) * 4;
    const std::string staging = "largest tensor " + std::to_string(largest_tensor) + " x (4 B f32 staging + " +
                                std::to_string(r.source_dtype_bytes) + " B mapped)";
    plan.load_host = {"load peak, host", largest_tensor * (4 + r.source_dtype_bytes) + (p.gpu ? 0 : resident + head16),
                      staging + (p.gpu ? "" : " + the resident model (base linears + f32 embeddings, head, norms)" +
                                                  std::string(head16 ? " + bf16 LM head copy" : ""))};
    plan.load_device = {"load peak, device", p.gpu ? resident : 0,
                        p.gpu ? "base linears + f32 embeddings, head, norms as loaded" : "none on cpu"};
    return plan;
}

/// The request of a generator<Quant, Adapter, ...> training at (seq, batch).
template <class Quant, class Adapter>
memory_request training_request(std::int64_t seq, std::int64_t batch, bool checkpointing = true) {
    memory_request r;
    r.seq = seq, r.batch = batch, r.checkpointing = checkpointing, r.mode = plan_mode::training;
    r.quant = Quant::quantizes ? plan_quant::nf4 : plan_quant::none;
    r.lora_rank = Adapter::enabled ? Adapter::rank : 0;
    r.lora_targets = Adapter::targets;
    return r;
}

/// Throws config_error when `plan` does not fit, naming the total, the budget and the largest term.
inline void require_fits(const memory_plan& plan) {
    if (plan.fits) return;
    const auto& big = plan.largest();
    throw config_error("memory plan: " + detail::gib_text(plan.total) + " needed but profile " + plan.profile + " has " +
                       detail::gib_text(plan.budget) + "; the largest term is " + big.name + " (" + detail::gib_text(big.bytes) + ": " +
                       big.formula + ")" +
                       (plan.request.mode == plan_mode::training && !plan.request.checkpointing ? "; try gradient checkpointing" : "") +
                       (plan.request.quant == plan_quant::none ? "; try NF4 quantisation" : ""));
}

/// The plan as a table (one term per line, then the total and verdict).
inline std::string plan_table(const memory_plan& plan) {
    std::string out;
    char line[256];
    for (const auto& t : plan.terms) {
        std::snprintf(line, sizeof line, "  %-30s %12s   %s\n", t.name.c_str(), detail::gib_text(t.bytes).c_str(), t.formula.c_str());
        out += line;
    }
    std::snprintf(line, sizeof line, "  %-30s %12s   of %s (%s): %s\n", "total", detail::gib_text(plan.total).c_str(),
                  detail::gib_text(plan.budget).c_str(), plan.profile.c_str(), plan.fits ? "fits" : "does NOT fit");
    out += line;
    for (const auto* t : {&plan.load_host, &plan.load_device}) {
        std::snprintf(line, sizeof line, "  %-30s %12s   %s\n", t->name.c_str(), detail::gib_text(t->bytes).c_str(), t->formula.c_str());
        out += line;
    }
    return out;
}

/// The plan as JSON: {"profile", "fits", "total_bytes", "budget_bytes", "parameters",
/// "adapter_parameters", "largest_term", "terms": {name: bytes}, "load_host_bytes",
/// "load_device_bytes", "request": {...}}.
inline nlohmann::json plan_json(const memory_plan& plan) {
    nlohmann::json terms = nlohmann::json::object();
    for (const auto& t : plan.terms) terms[t.name] = t.bytes;
    const auto& r = plan.request;
    return {{"profile", plan.profile},
            {"fits", plan.fits},
            {"total_bytes", plan.total},
            {"budget_bytes", plan.budget},
            {"parameters", plan.parameters},
            {"adapter_parameters", plan.adapter_parameters},
            {"largest_term", plan.largest().name},
            {"terms", terms},
            {"load_host_bytes", plan.load_host.bytes},
            {"load_device_bytes", plan.load_device.bytes},
            {"request",
             {{"seq", r.seq},
              {"batch", r.batch},
              {"quant", r.quant == plan_quant::nf4 ? "nf4" : "none"},
              {"lora_rank", r.lora_rank},
              {"checkpointing", r.checkpointing},
              {"mode", r.mode == plan_mode::training ? "training" : "inference"}}}};
}

}  // namespace hoprag::train
