// xt_view: zero-copy xtensor views of file tensors. A safetensors file written by write_safetensors
// and read back (values, row-major shape, pointer into the mapping, fixed and dynamic rank); the
// reference writer's tiny GGUF (ggml's ne reversed into a row-major shape, element for element
// against the golden values); the norms of the real SmolLM2 GGUF against its golden slices; and
// refusals: a dtype other than the stored one, quantised GGUF types, data not aligned for T and
// a wrong fixed rank.
#include <catch2/catch.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hoprag/io/xt_views.hpp"
#include "support/files.hpp"

using namespace hoprag;
namespace fs = std::filesystem;

namespace {

template <class T>
std::span<const std::byte> bytes_of(const std::vector<T>& v) {
    return std::as_bytes(std::span<const T>(v));
}

}  // namespace

TEST_CASE("xt_view: safetensors tensors written by write_safetensors, viewed in place", "[io][safetensors][xtensor]") {
    const auto dir = test::fresh_dir("xt_view_safetensors");
    const std::vector<float> w{0.5f, 1.5f, 2.5f, 3.5f, 4.5f, 5.5f};            // [2, 3]
    const std::vector<std::int32_t> ids{7, -8, 9, -10};                        // [2, 1, 2]
    std::vector<bf16> h;                                                       // [3]
    for (const float x : {1.0f, -2.0f, 0.375f}) h.push_back(bf16::from_float(x));
    const std::vector<io::safetensors_entry> entries{{"w", io::st_dtype::f32, shape{2, 3}, bytes_of(w)},
                                                     {"ids", io::st_dtype::i32, shape{2, 1, 2}, bytes_of(ids)},
                                                     {"h", io::st_dtype::bf16, shape{3}, bytes_of(h)}};
    io::write_safetensors(dir / "m.safetensors", entries);
    const io::safetensors_file f(dir / "m.safetensors");

    const auto& wt = f.at("w");
    const auto wv = io::xt_view<float, 2>(wt);
    REQUIRE(wv.shape(0) == 2);
    REQUIRE(wv.shape(1) == 3);
    REQUIRE(static_cast<const void*>(wv.data()) == static_cast<const void*>(wt.bytes.data()));  // no copy
    for (std::size_t i = 0; i < 2; ++i)
        for (std::size_t j = 0; j < 3; ++j) REQUIRE(wv(i, j) == w[i * 3 + j]);

    const auto iv = io::xt_view<std::int32_t>(f.at("ids"));  // dynamic rank
    REQUIRE(iv.dimension() == 3);
    REQUIRE(iv.shape(0) == 2);
    REQUIRE(iv.shape(1) == 1);
    REQUIRE(iv.shape(2) == 2);
    REQUIRE(iv(0, 0, 1) == -8);
    REQUIRE(iv(1, 0, 0) == 9);

    const auto hv = io::xt_view<bf16, 1>(f.at("h"));
    REQUIRE(hv.shape(0) == 3);
    REQUIRE(hv(1).to_float() == -2.0f);
    REQUIRE(hv(2).to_float() == 0.375f);

    // refusals: another dtype, a wrong fixed rank
    REQUIRE_THROWS_AS(io::xt_view<bf16>(wt), format_error);
    REQUIRE_THROWS_WITH(io::xt_view<bf16>(wt), Catch::Contains("tensor 'w' holds F32, not the BF16"));
    REQUIRE_THROWS_WITH(io::xt_view<float>(f.at("h")), Catch::Contains("tensor 'h' holds BF16, not the F32") && Catch::Contains("to_f32"));
    REQUIRE_THROWS_AS(io::xt_view<std::uint32_t>(f.at("ids")), format_error);
    REQUIRE_THROWS_AS((io::xt_view<float, 3>(wt)), shape_error);
}

TEST_CASE("xt_view: safetensors data not aligned for T is refused, not read misaligned", "[io][safetensors][xtensor]") {
    // a 2-byte BF16 tensor first puts the F32 tensor 2 bytes past the 8-byte aligned data region
    const auto dir = test::fresh_dir("xt_view_unaligned");
    const std::vector<bf16> a{bf16::from_float(1.0f)};
    const std::vector<float> b{3.0f, 4.0f};
    const std::vector<io::safetensors_entry> entries{{"a", io::st_dtype::bf16, shape{1}, bytes_of(a)},
                                                     {"b", io::st_dtype::f32, shape{2}, bytes_of(b)}};
    io::write_safetensors(dir / "m.safetensors", entries);
    const io::safetensors_file f(dir / "m.safetensors");
    REQUIRE(reinterpret_cast<std::uintptr_t>(f.at("b").bytes.data()) % alignof(float) != 0);
    REQUIRE_THROWS_AS(io::xt_view<float>(f.at("b")), format_error);
    REQUIRE_THROWS_WITH(io::xt_view<float>(f.at("b")), Catch::Contains("tensor 'b'") && Catch::Contains("not aligned"));
    REQUIRE(f.at("b").to_f32() == b);  // the converting reader still works
    REQUIRE(io::xt_view<bf16>(f.at("a"))(0).to_float() == 1.0f);
}

TEST_CASE("xt_view: GGUF tensors of the reference writer's tiny file, in row-major order", "[io][gguf][xtensor]") {
    const io::gguf_file f(test::golden("gguf_quants_tiny.gguf"));
    const auto want = test::read_json(test::golden("gguf_quants_tiny.json"));

    // numpy (3, 5) float32: ggml ne = {5, 3}, viewed as [3, 5]
    const auto& t = f.tensor("f32");
    REQUIRE(t.ne[0] == 5);
    REQUIRE(t.ne[1] == 3);
    const auto v = io::xt_view<float, 2>(t);
    REQUIRE(v.shape(0) == 3);
    REQUIRE(v.shape(1) == 5);
    REQUIRE(static_cast<const void*>(v.data()) == static_cast<const void*>(t.bytes.data()));
    const auto bits = want["tensors"]["f32"]["bits"].get<std::vector<std::uint32_t>>();
    for (std::size_t i = 0; i < 3; ++i)
        for (std::size_t j = 0; j < 5; ++j) REQUIRE(float_bits(v(i, j)) == bits[i * 5 + j]);

    // BF16 ne = {3, 2}, viewed as [2, 3]; F16 ne = {7}
    const auto bv = io::xt_view<bf16>(f.tensor("bf16"));
    REQUIRE(bv.dimension() == 2);
    REQUIRE(bv.shape(0) == 2);
    REQUIRE(bv.shape(1) == 3);
    const auto bbits = want["tensors"]["bf16"]["bits"].get<std::vector<std::uint32_t>>();
    for (std::size_t i = 0; i < 2; ++i)
        for (std::size_t j = 0; j < 3; ++j) REQUIRE(float_bits(bv(i, j).to_float()) == bbits[i * 3 + j]);
    const auto hv = io::xt_view<f16, 1>(f.tensor("f16"));
    const auto hbits = want["tensors"]["f16"]["bits"].get<std::vector<std::uint32_t>>();
    REQUIRE(hv.shape(0) == 7);
    for (std::size_t i = 0; i < 7; ++i) REQUIRE(float_bits(hv(i).to_float()) == hbits[i]);

    // refusals: another element type, every quantised type, a wrong fixed rank
    REQUIRE_THROWS_WITH(io::xt_view<float>(f.tensor("f16")), Catch::Contains("tensor 'f16' holds F16, not the F32") && Catch::Contains("dequantize"));
    REQUIRE_THROWS_AS(io::xt_view<f16>(t), format_error);
    for (const char* q : {"q4_0", "q4_1", "q8_0", "q4_k", "q6_k"}) {
        INFO(q);
        REQUIRE_THROWS_AS(io::xt_view<float>(f.tensor(q)), format_error);
        REQUIRE_THROWS_WITH(io::xt_view<float>(f.tensor(q)), Catch::Contains("is quantised"));
    }
    REQUIRE_THROWS_AS((io::xt_view<float, 1>(t)), shape_error);
}

TEST_CASE("xt_view: real SmolLM2-135M-Instruct norms equal the gguf package, quantised weights refused", "[io][gguf][xtensor][model]") {
    const fs::path model = fs::path(test::source_dir()) / ".cache" / "models" / "smollm2-135m-instruct" / "SmolLM2-135M-Instruct.Q4_1.gguf";
    test::require_setup_input(model);
    const io::gguf_file f(model);
    const auto want = test::read_json(test::golden("gguf_smollm2.json"))["tensors"];
    for (const char* name : {"blk.0.attn_norm.weight", "blk.29.ffn_norm.weight", "output_norm.weight"}) {
        INFO(name);
        const auto v = io::xt_view<float, 1>(f.tensor(name));
        const auto& w = want[name];
        REQUIRE(v.shape(0) == w["numel"].get<std::size_t>());
        const auto head = w["head"].get<std::vector<std::uint32_t>>();
        for (std::size_t i = 0; i < head.size(); ++i) REQUIRE(float_bits(v(i)) == head[i]);
        const auto mid_at = w["mid_at"].get<std::size_t>();
        const auto mid = w["mid"].get<std::vector<std::uint32_t>>();
        for (std::size_t i = 0; i < mid.size(); ++i) REQUIRE(float_bits(v(mid_at + i)) == mid[i]);
    }
    REQUIRE_THROWS_WITH(io::xt_view<float>(f.tensor("blk.0.attn_q.weight")), Catch::Contains("is quantised (Q4_1)"));
    REQUIRE_THROWS_WITH(io::xt_view<float>(f.tensor("token_embd.weight")), Catch::Contains("is quantised (Q8_0)"));
}
