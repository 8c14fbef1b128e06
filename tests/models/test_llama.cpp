// Llama decoder units on a tiny random config: CPU forward vs a float64 reference (GQA, full and
// sliding-window attention), KV-cache decode and right-padded batched prefill equal to a plain
// prefill, GGUF-style interleaved RoPE on permuted Q/K rows equal to rotate-half on HF rows, the
// loader's error listing and its streaming of the block linears into a sink, release_pages of
// mapped views, sampling (greedy, determinism, top-p) and generate's stop rules.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include "hoprag/cpu/backend.hpp"
#include "hoprag/io/mapped_file.hpp"
#include "hoprag/models/llama/generate.hpp"
#include "models/llama_tiny.hpp"

using namespace hoprag;
namespace llama = hoprag::models::llama;

namespace {
const std::vector<std::int32_t> tiny_ids = {1, 5, 36, 7, 7, 0, 12, 30, 2, 9, 11};

/// Logits [vocab] of the last position of ids[0, n).
std::vector<float> last_logits(cpu::context& ctx, const llama::weights<cpu::context>& m, std::size_t n) {
    return llama::forward(ctx, m, nullptr, std::span<const std::int32_t>(tiny_ids.data(), n), 1, static_cast<std::int64_t>(n));
}
}  // namespace

TEST_CASE("llama forward matches a float64 reference on a tiny config", "[llama]") {
    for (std::int64_t window : {0, 3}) {
        const auto c = test::tiny_llama_config(window);
        const test::tiny_llama_tensors t(c, false, 11);
        cpu::context ctx;
        const auto m = llama::load_weights(ctx, c, t.source(false));
        const auto ref = test::tiny_llama_reference(c, t, tiny_ids);
        for (std::size_t n : {std::size_t(1), std::size_t(4), tiny_ids.size()}) {
            const std::vector<double> want(ref.begin() + (n - 1) * c.vocab_size, ref.begin() + n * c.vocab_size);
            test::require_close(last_logits(ctx, m, n), want, 1e-4, 1e-4, "window " + std::to_string(window) + " n " + std::to_string(n));
        }
    }
}

TEST_CASE("llama KV-cache decode and padded batched prefill equal a full prefill", "[llama]") {
    const auto c = test::tiny_llama_config(4);
    const test::tiny_llama_tensors t(c, false, 12);
    cpu::context ctx;
    const auto m = llama::load_weights(ctx, c, t.source(false));
    llama::kv_cache<cpu::context> cache(ctx, c, 1, 16);
    std::vector<float> step = llama::forward(ctx, m, &cache, std::span<const std::int32_t>(tiny_ids.data(), 3), 1, 3);
    for (std::size_t i = 3; i < tiny_ids.size(); ++i) {
        step = llama::forward(ctx, m, &cache, std::span<const std::int32_t>(&tiny_ids[i], 1), 1, 1);
        test::require_close(step, last_logits(ctx, m, i + 1), 1e-5, 1e-5, "decode step " + std::to_string(i));
    }
    CHECK(cache.length == static_cast<std::int64_t>(tiny_ids.size()));
    CHECK_THROWS_AS(llama::forward(ctx, m, &cache, std::span<const std::int32_t>(tiny_ids.data(), 6), 1, 6), shape_error);

    // batch 2, right padded: row 0 = ids[0, 11), row 1 = ids[0, 5) + padding
    std::vector<std::int32_t> ids(tiny_ids.begin(), tiny_ids.end());
    ids.insert(ids.end(), tiny_ids.begin(), tiny_ids.begin() + 5);
    ids.resize(22, 3);
    const std::vector<std::int64_t> last = {10, 4};
    const auto both = llama::forward(ctx, m, nullptr, ids, 2, 11, last);
    test::require_close({both.begin(), both.begin() + c.vocab_size}, last_logits(ctx, m, 11), 1e-5, 1e-5, "row 0");
    test::require_close({both.begin() + c.vocab_size, both.end()}, last_logits(ctx, m, 5), 1e-5, 1e-5, "row 1");

    // batched cache (equal lengths): two copies of the same prompt decode identically
    llama::kv_cache<cpu::context> bc(ctx, c, 2, 12);
    std::vector<std::int32_t> two(tiny_ids.begin(), tiny_ids.begin() + 5);
    two.insert(two.end(), tiny_ids.begin(), tiny_ids.begin() + 5);
    llama::forward(ctx, m, &bc, two, 2, 5);
    const std::vector<std::int32_t> next = {tiny_ids[5], tiny_ids[5]};
    const auto dec = llama::forward(ctx, m, &bc, next, 2, 1);
    test::require_close({dec.begin(), dec.begin() + c.vocab_size}, last_logits(ctx, m, 6), 1e-5, 1e-5, "batched decode 0");
    test::require_close({dec.begin() + c.vocab_size, dec.end()}, last_logits(ctx, m, 6), 1e-5, 1e-5, "batched decode 1");
}

TEST_CASE("llama GGUF layout: interleaved RoPE on permuted Q/K rows equals rotate-half", "[llama]") {
    const auto c = test::tiny_llama_config();
    const test::tiny_llama_tensors hf(c, false, 13);
    test::tiny_llama_tensors gg(c, true, 99);
    // fill the GGUF-named tensors from the HF ones, permuting Q/K rows as llama.cpp's converter does
    const std::string_view fields[] = {"attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down"};
    gg.data["token_embd.weight"] = hf.data.at("model.embed_tokens.weight");
    gg.data["output_norm.weight"] = hf.data.at("model.norm.weight");
    gg.data["output.weight"] = hf.data.at("lm_head.weight");
    for (std::int64_t l = 0; l < c.num_layers; ++l)
        for (std::size_t f = 0; f < 9; ++f) {
            const std::string g = "blk." + std::to_string(l) + "." + std::string(fields[f]) + ".weight";
            auto w = hf.data.at("model.layers." + std::to_string(l) + "." + std::string(llama::hf_layer_names[f]) + ".weight");
            if (f == 1 || f == 2) {  // row (head, i, half) -> (head, 2 i + half): interleave the halves
                const std::int64_t heads = f == 1 ? c.num_heads : c.num_kv_heads, D = c.head_dim, H = c.hidden_size;
                std::vector<float> p(w.size());
                for (std::int64_t h = 0; h < heads; ++h)
                    for (std::int64_t half = 0; half < 2; ++half)
                        for (std::int64_t i = 0; i < D / 2; ++i)
                            std::copy_n(w.begin() + (h * D + half * D / 2 + i) * H, H, p.begin() + (h * D + 2 * i + half) * H);
                w = p;
            }
            gg.data[g] = w;
        }
    cpu::context ctx;
    const auto a = llama::load_weights(ctx, c, hf.source(false));
    const auto b = llama::load_weights(ctx, c, gg.source(true));
    CHECK(b.rope == rope_style::interleaved);
    test::require_close(last_logits(ctx, b, tiny_ids.size()), last_logits(ctx, a, tiny_ids.size()), 1e-5, 1e-5, "gguf vs hf");
}

TEST_CASE("llama loader lists missing, unexpected and mis-shaped tensors", "[llama]") {
    const auto c = test::tiny_llama_config();
    test::tiny_llama_tensors t(c, false, 14);
    auto s = t.source(false);
    s.shapes.erase("model.layers.1.mlp.up_proj.weight");
    s.shapes["model.layers.0.self_attn.k_proj.weight"] = shape{5, 24};
    s.shapes["model.layers.2.mlp.up_proj.weight"] = shape{20, 24};
    s.shapes["model.layers.0.self_attn.rotary_emb.inv_freq"] = shape{3};  // ignored
    cpu::context ctx;
    try {
        llama::load_weights(ctx, c, s);
        FAIL("no error");
    } catch (const format_error& e) {
        const std::string msg = e.what();
        INFO(msg);
        CHECK(msg.find("missing: model.layers.1.mlp.up_proj.weight") != std::string::npos);
        CHECK(msg.find("wrong shape: model.layers.0.self_attn.k_proj.weight is [5, 24] (expected [12, 24])") != std::string::npos);
        CHECK(msg.find("unexpected: model.layers.2.mlp.up_proj.weight") != std::string::npos);
        CHECK(msg.find("inv_freq") == std::string::npos);
    }
}

TEST_CASE("llama sampling: greedy, seeded determinism, top-p nucleus", "[llama][sampling]") {
    const std::vector<float> logits = {0.1f, 2.0f, -1.0f, 1.9f, 0.0f};
    llama::sampling_options o;
    CHECK(llama::sample_token(logits, o, 0) == 1);
    o.temperature = 1.0f, o.seed = 7;
    std::vector<int> counts(5, 0);
    for (std::uint64_t s = 0; s < 2000; ++s) {
        const auto t = llama::sample_token(logits, o, s);
        CHECK(t == llama::sample_token(logits, o, s));  // a pure function of (seed, step)
        ++counts[static_cast<std::size_t>(t)];
    }
    // softmax probabilities: p1 ~ 0.44, p3 ~ 0.40, p2 ~ 0.022; check frequencies loosely (2000 draws)
    CHECK(std::abs(counts[1] / 2000.0 - 0.4417) < 0.05);
    CHECK(std::abs(counts[3] / 2000.0 - 0.3997) < 0.05);
    CHECK(counts[2] > 0);
    o.top_p = 0.5f;  // nucleus = {1, 3} (0.44 < 0.5 <= 0.84)
    for (std::uint64_t s = 0; s < 200; ++s) {
        const auto t = llama::sample_token(logits, o, s);
        CHECK((t == 1 || t == 3));
    }
    o.top_p = 0.3f;  // nucleus = {1}
    for (std::uint64_t s = 0; s < 50; ++s) CHECK(llama::sample_token(logits, o, s) == 1);
    o.top_p = 0.0f;
    CHECK_THROWS_AS(llama::sample_token(logits, o, 0), config_error);
}

TEST_CASE("llama generate stops at max tokens, stop tokens and stop strings", "[llama]") {
    const auto c = test::tiny_llama_config();
    const test::tiny_llama_tensors t(c, false, 15);
    cpu::context ctx;
    const auto m = llama::load_weights(ctx, c, t.source(false));
    const std::vector<std::int32_t> prompt(tiny_ids.begin(), tiny_ids.begin() + 4);
    llama::generate_options o;
    o.max_new_tokens = 6;
    o.stop_at_eos = false;
    const auto full = llama::generate(ctx, m, prompt, o);
    REQUIRE(full.tokens.size() == 6);
    CHECK(full.stop_reason == "max_tokens");
    // greedy tokens equal argmax of a fresh prefill over prompt + generated
    std::vector<std::int32_t> seqv = prompt;
    for (auto tk : full.tokens) {
        CHECK(llama::argmax(llama::forward(ctx, m, nullptr, seqv, 1, static_cast<std::int64_t>(seqv.size()))) == tk);
        seqv.push_back(tk);
    }
    o.stop_ids = {full.tokens[2]};
    const auto stopped = llama::generate(ctx, m, prompt, o);
    CHECK(stopped.stop_reason == "stop_token");
    CHECK(stopped.tokens.size() <= 2);
    o.stop_ids.clear();
    o.stop_strings = {"<" + std::to_string(full.tokens[1]) + ">"};
    const auto decode = [](std::span<const std::int32_t> ids) {
        std::string s;
        for (auto i : ids) s += "<" + std::to_string(i) + ">";
        return s;
    };
    const auto by_string = llama::generate(ctx, m, prompt, o, decode);
    CHECK(by_string.stop_reason == "stop_string");
    CHECK(by_string.tokens.size() <= 2);
    CHECK_THROWS_AS(llama::generate(ctx, m, prompt, o), config_error);  // stop strings without decode
}

TEST_CASE("llama loader streams the block linears into a sink, the rest into backend memory", "[llama]") {
    const auto c = test::tiny_llama_config();
    test::tiny_llama_tensors t(c, false, 15);
    cpu::context ctx;
    std::map<std::pair<std::size_t, std::size_t>, std::vector<float>> got;
    const auto m = llama::load_weights(ctx, c, t.source(false), [&](std::size_t l, std::size_t f, std::span<const float> w) {
        CHECK(llama::is_linear_field(f));
        got[{l, f}].assign(w.begin(), w.end());
    });
    REQUIRE(got.size() == static_cast<std::size_t>(c.num_layers) * 7);
    const auto shapes = llama::layer_shapes(c);
    for (const auto& [at, w] : got) {
        const auto name = "model.layers." + std::to_string(at.first) + "." + std::string(llama::hf_layer_names[at.second]) + ".weight";
        INFO(name);
        CHECK(static_cast<std::int64_t>(w.size()) == shapes[at.second].numel());
        CHECK(w == t.data.at(name));
    }
    for (std::size_t l = 0; l < m.layers.size(); ++l) {
        CHECK(m.layers[l].wq.size() == 0);  // left empty: the sink took them
        CHECK(m.layers[l].w_down.size() == 0);
        CHECK(m.layers[l].attn_norm.to_host() == t.data.at("model.layers." + std::to_string(l) + ".input_layernorm.weight"));
    }
    CHECK(m.embed.to_host() == t.data.at("model.embed_tokens.weight"));
}

TEST_CASE("release_pages drops a mapped view's pages and later reads see the same bytes", "[io]") {
    const auto path = std::filesystem::temp_directory_path() / ("hoprag_release_" + std::to_string(::getpid()));
    std::vector<char> bytes(3 * 4096 + 123);
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 31 + 7);
    std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    const io::mapped_file f(path);
    const auto view = f.bytes().subspan(100, 2 * 4096);
    CHECK(std::memcmp(view.data(), bytes.data() + 100, view.size()) == 0);
    io::release_pages(view);
    io::release_pages({});
    CHECK(std::memcmp(f.data(), bytes.data(), bytes.size()) == 0);
    std::filesystem::remove(path);
}
