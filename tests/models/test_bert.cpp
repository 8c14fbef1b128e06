// BERT bi-encoder tests: the sequence_pool op vs a float64 reference (CLS / masked mean, with and
// without L2 normalisation, odd and tiny sizes); the encoder on the real all-MiniLM-L6-v2 weights
// vs golden embeddings of 200 HotpotQA texts made by tests/golden/make_bert_golden.py (float64
// PyTorch reference), cosine >= 0.9999 for every text; bucketing/padding invariance; checkpoint
// errors naming the tensor.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "hoprag/cpu/backend.hpp"
#include "hoprag/io/safetensors.hpp"
#include "hoprag/models/bert/encoder.hpp"
#include "support/reference.hpp"

using namespace hoprag;
namespace bert = hoprag::models::bert;

namespace {

std::string golden(const std::string& name) { return test::source_dir() + "/tests/golden/" + name; }
std::string minilm() { return test::source_dir() + "/.cache/models/all-minilm-l6-v2"; }

std::vector<float> read_f32(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in.good());
    in.seekg(0, std::ios::end);
    const auto bytes = static_cast<std::size_t>(in.tellg());
    in.seekg(0);
    std::vector<float> v(bytes / 4);
    in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(bytes));
    return v;
}

struct golden_text {
    std::string text;
    std::size_t n_tokens;
    std::uint64_t ids_hash;
};

std::vector<golden_text> read_texts() {
    std::ifstream in(golden("bert_minilm_texts.jsonl"));
    REQUIRE(in.good());
    std::vector<golden_text> out;
    for (std::string line; std::getline(in, line);) {
        const auto j = nlohmann::json::parse(line);
        out.push_back({j.at("text").get<std::string>(), j.at("n_tokens").get<std::size_t>(),
                       j.at("ids_hash").get<std::uint64_t>()});
    }
    return out;
}

double cosine(const float* a, const float* b, std::int64_t n) {
    double ab = 0, aa = 0, bb = 0;
    for (std::int64_t i = 0; i < n; ++i) ab += double(a[i]) * b[i], aa += double(a[i]) * a[i], bb += double(b[i]) * b[i];
    return ab / std::sqrt(aa * bb);
}

}  // namespace

TEST_CASE("sequence_pool matches a float64 reference", "[bert][pooling]") {
    cpu::context ctx;
    struct shape_case {
        std::int64_t batch, seq, dim;
    };
    for (const auto [batch, seq, dim] : {shape_case{1, 1, 1}, {3, 5, 7}, {4, 17, 384}, {2, 2, 33}}) {
        const auto x = test::random_floats(static_cast<std::size_t>(batch * seq * dim), 7, -2, 3);
        std::vector<std::int32_t> valid(static_cast<std::size_t>(batch));
        for (std::int64_t b = 0; b < batch; ++b) valid[b] = static_cast<std::int32_t>((b * 3 + 1) % (seq + 1));
        valid[0] = static_cast<std::int32_t>(seq);  // one full sequence; the others may be 0 (all padding)
        for (const auto kind : {kernels::pooling_kind::cls, kernels::pooling_kind::mean})
            for (const bool normalize : {false, true}) {
                INFO("batch " << batch << " seq " << seq << " dim " << dim << " mean " << (kind == kernels::pooling_kind::mean)
                              << " normalize " << normalize);
                std::vector<double> want(static_cast<std::size_t>(batch * dim));
                for (std::int64_t b = 0; b < batch; ++b) {
                    double ss = 0;
                    for (std::int64_t c = 0; c < dim; ++c) {
                        double v = 0;
                        if (kind == kernels::pooling_kind::cls) v = x[b * seq * dim + c];
                        else if (valid[b] > 0) {
                            for (std::int64_t t = 0; t < valid[b]; ++t) v += x[(b * seq + t) * dim + c];
                            v /= valid[b];
                        }
                        want[b * dim + c] = v;
                        ss += v * v;
                    }
                    if (normalize)
                        for (std::int64_t c = 0; c < dim; ++c) want[b * dim + c] /= std::max(std::sqrt(ss), 1e-12);
                }
                std::vector<float> out(want.size(), -7.0f);
                cpu::sequence_pool(ctx, out.data(), x.data(), valid.data(), batch, seq, dim, kind, normalize);
                test::require_close(out, want, 1e-5, 1e-6, "pooled");
            }
    }
    std::vector<float> out(4), x(4);
    std::int32_t v = 1;
    CHECK_THROWS_AS(cpu::sequence_pool(ctx, out.data(), x.data(), &v, 1, 0, 4, kernels::pooling_kind::mean, true),
                    shape_error);
}

TEST_CASE("all-MiniLM-L6-v2 embeddings match the float64 PyTorch reference", "[bert][golden]") {
    cpu::context ctx;
    const auto texts = read_texts();
    REQUIRE(texts.size() == 200);
    std::vector<std::string> strings;
    for (const auto& t : texts) strings.push_back(t.text);

    bert::encoder_options opt;
    opt.max_tokens = 4096;  // several buckets of mixed lengths
    bert::encoder<cpu::context, bert::mean_pooling> enc(ctx, minilm(), opt);
    REQUIRE(enc.dimension() == 384);
    for (std::size_t i = 0; i < texts.size(); ++i) {
        const auto e = enc.tokenize(texts[i].text);
        std::uint64_t h = 0;
        for (std::size_t j = 0; j < e.ids.size(); ++j) h += (j + 1) * static_cast<std::uint64_t>(e.ids[j]);
        INFO("text " << i);
        REQUIRE(e.ids.size() == texts[i].n_tokens);
        REQUIRE(h % (1ull << 32) == texts[i].ids_hash);
    }
    std::size_t calls = 0, last = 0;
    const auto got = enc.encode_passages(strings, [&](std::size_t done, std::size_t total) {
        ++calls;
        CHECK(done > last);
        CHECK(total == 200);
        last = done;
    });
    CHECK(calls > 1);
    CHECK(last == 200);
    const auto want = read_f32(golden("bert_minilm_mean.f32"));
    REQUIRE(want.size() == got.size());
    double worst = 1.0;
    std::size_t worst_at = 0;
    for (std::size_t i = 0; i < 200; ++i) {
        const double c = cosine(got.data() + i * 384, want.data() + i * 384, 384);
        if (c < worst) worst = c, worst_at = i;
    }
    INFO("worst cosine " << worst << " at text " << worst_at);
    CHECK(worst >= 0.9999);
    // normalised: unit length
    double n0 = 0;
    for (int c = 0; c < 384; ++c) n0 += double(got[c]) * got[c];
    CHECK(std::abs(n0 - 1.0) < 1e-5);

    // CLS pooling on the same weights, first 40 texts
    bert::encoder<cpu::context, bert::cls_pooling> cls(ctx, minilm(), opt);
    const std::vector<std::string> first(strings.begin(), strings.begin() + 40);
    const auto got_cls = cls.encode_passages(first);
    const auto want_cls = read_f32(golden("bert_minilm_cls.f32"));
    REQUIRE(want_cls.size() == got_cls.size());
    for (std::size_t i = 0; i < 40; ++i) {
        INFO("cls text " << i);
        CHECK(cosine(got_cls.data() + i * 384, want_cls.data() + i * 384, 384) >= 0.9999);
    }
}

TEST_CASE("an embedding does not depend on its batch or padding", "[bert][batching]") {
    cpu::context ctx;
    bert::encoder<cpu::context, bert::mean_pooling> enc(ctx, minilm(), {.max_tokens = 512, .max_batch = 8});
    const std::vector<std::string> texts{"Who wrote Tros of Samothrace?", "a", "",
                                         "The Lady is a British weekly magazine founded in 1885 by Thomas Gibson Bowles.",
                                         "Which magazine was published first, Woman's Day or The Lady?"};
    const auto together = enc.encode_passages(texts);
    for (std::size_t i = 0; i < texts.size(); ++i) {
        const auto alone = enc.encode_passages(std::span(texts).subspan(i, 1));
        INFO("text " << i);
        test::require_close(alone, std::vector<float>(together.begin() + i * 384, together.begin() + (i + 1) * 384),
                            1e-4, 1e-5, "alone vs batched");
    }
    // the fused attention op and the GEMM attention path compute the same embeddings
    bert::encoder<cpu::context, bert::mean_pooling> fused(
        ctx, minilm(), {.max_tokens = 512, .max_batch = 8, .attention = bert::attention_path::fused});
    test::require_close(fused.encode_passages(texts), together, 1e-4, 1e-5, "fused vs gemm attention");
    // the query prefix changes queries only
    bert::encoder<cpu::context, bert::mean_pooling> bge_like(ctx, minilm(), {.query_prefix = bert::bge_query_instruction});
    const auto q = bge_like.encode_queries(std::span(texts).subspan(0, 1));
    const auto p = bge_like.encode_passages(std::span(texts).subspan(0, 1));
    CHECK(cosine(q.data(), together.data(), 384) < 0.999);
    test::require_close(p, std::vector<float>(together.begin(), together.begin() + 384), 1e-4, 1e-5, "passage");
}

TEST_CASE("a checkpoint that does not fit the config is refused naming the tensor", "[bert][errors]") {
    cpu::context ctx;
    const auto dir = std::filesystem::temp_directory_path() / ("hoprag_bert_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    bert::config c;
    c.vocab_size = 11, c.hidden_size = 4, c.num_layers = 1, c.num_heads = 2, c.intermediate_size = 6;
    c.max_position_embeddings = 8;
    c.validate("tiny");
    std::vector<std::string> names;
    std::vector<std::vector<std::int64_t>> shapes;
    const auto es = bert::embedding_shapes(c);
    for (std::size_t i = 0; i < es.size(); ++i) names.emplace_back(bert::hf_embedding_names[i]), shapes.push_back(es[i]);
    const auto ls = bert::layer_shapes(c);
    for (std::size_t i = 0; i < ls.size(); ++i)
        names.push_back("encoder.layer.0." + std::string(bert::hf_layer_names[i])), shapes.push_back(ls[i]);
    auto write = [&](std::size_t skip, std::size_t misshape, const std::string& prefix) {
        std::vector<std::vector<float>> data;
        std::vector<io::safetensors_entry> entries;
        data.reserve(names.size());
        for (std::size_t i = 0; i < names.size(); ++i) {
            if (i == skip) continue;
            auto s = shapes[i];
            if (i == misshape) s.back() += 1;
            std::int64_t n = 1;
            for (auto d : s) n *= d;
            data.emplace_back(static_cast<std::size_t>(n), 0.5f);
            shape dims;
            for (auto d : s) dims.dims[static_cast<std::size_t>(dims.rank++)] = d;
            entries.push_back({prefix + names[i], io::st_dtype::f32, dims, std::as_bytes(std::span(data.back()))});
        }
        io::write_safetensors(dir / "model.safetensors", entries);
    };
    write(99, 99, "bert.");  // complete, with the BertFor* prefix
    const auto p = bert::load_parameters(ctx, c, dir);
    CHECK(bert::count(p) == 11 * 4 + 8 * 4 + 2 * 4 + 4 + 4 + 3 * (16 + 4) + 16 + 4 + 4 + 4 + 24 + 6 + 24 + 4 + 4 + 4);
    write(7, 99, "");
    CHECK_THROWS_WITH(bert::load_parameters(ctx, c, dir),
                      Catch::Contains("encoder.layer.0.attention.self.key.weight") && Catch::Contains("missing"));
    write(99, 15, "");
    CHECK_THROWS_WITH(bert::load_parameters(ctx, c, dir), Catch::Contains("intermediate.dense.weight") &&
                                                              Catch::Contains("[6, 5]") && Catch::Contains("[6, 4]"));
    std::filesystem::remove_all(dir);
}
