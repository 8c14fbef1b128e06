// CUDA parity of the BERT bi-encoder: sequence_pool vs the CPU op, and all-MiniLM-L6-v2 embeddings
// of golden texts (mixed lengths, several buckets, the empty text) on the CUDA backend vs the CPU
// backend (cosine >= 0.99999 per text) and vs the float64 PyTorch golden (cosine >= 0.9999).
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hoprag/backend/buffer.hpp"
#include "hoprag/cpu/backend.hpp"
#include "hoprag/cuda/backend.hpp"
#include "hoprag/models/bert/encoder.hpp"
#include "support/reference.hpp"

using namespace hoprag;
namespace bert = hoprag::models::bert;

namespace {
double cosine_at(const std::vector<float>& a, const std::vector<float>& b, std::size_t row, std::size_t dim) {
    double ab = 0, aa = 0, bb = 0;
    for (std::size_t i = row * dim; i < (row + 1) * dim; ++i)
        ab += double(a[i]) * b[i], aa += double(a[i]) * a[i], bb += double(b[i]) * b[i];
    return ab / std::sqrt(aa * bb);
}
}  // namespace

TEST_CASE("cuda sequence_pool matches cpu", "[cuda][bert]") {
    cpu::context c;
    cuda::context g;
    const std::int64_t batch = 5, seq = 19, dim = 67;
    const auto x = test::random_floats(batch * seq * dim, 3, -2, 2);
    const std::vector<std::int32_t> valid{19, 1, 0, 7, 30};
    for (const auto kind : {kernels::pooling_kind::cls, kernels::pooling_kind::mean})
        for (const bool normalize : {false, true}) {
            std::vector<float> want(batch * dim);
            cpu::sequence_pool(c, want.data(), x.data(), valid.data(), batch, seq, dim, kind, normalize);
            buffer<cuda::context, float> gx(g, x), gout(g, batch * dim);
            buffer<cuda::context, std::int32_t> gv(g, valid);
            cuda::sequence_pool(g, gout.data(), gx.data(), gv.data(), batch, seq, dim, kind, normalize);
            test::require_close(gout.to_host(), want, 1e-5, 1e-6, "pooled");
        }
}

TEST_CASE("cuda all-MiniLM-L6-v2 embeddings match cpu and the golden reference", "[cuda][bert]") {
    const std::string root = test::source_dir();
    std::vector<std::string> texts;
    std::ifstream in(root + "/tests/golden/bert_minilm_texts.jsonl");
    for (std::string line; std::getline(in, line) && texts.size() < 200;)
        texts.push_back(nlohmann::json::parse(line).at("text").get<std::string>());
    REQUIRE(texts.size() == 200);
    std::vector<float> golden(200 * 384);
    std::ifstream gf(root + "/tests/golden/bert_minilm_mean.f32", std::ios::binary);
    gf.read(reinterpret_cast<char*>(golden.data()), static_cast<std::streamsize>(golden.size() * 4));
    REQUIRE(gf.good());
    const bert::encoder_options opt{.max_tokens = 4096};
    cpu::context c;
    cuda::context g;
    bert::encoder<cpu::context, bert::mean_pooling> ce(c, root + "/.cache/models/all-minilm-l6-v2", opt);
    bert::encoder<cuda::context, bert::mean_pooling> ge(g, root + "/.cache/models/all-minilm-l6-v2", opt);
    const auto want = ce.encode_passages(texts);
    const auto got = ge.encode_passages(texts);
    REQUIRE(got.size() == want.size());
    for (std::size_t i = 0; i < texts.size(); ++i) {
        INFO("text " << i);
        CHECK(cosine_at(got, want, i, 384) >= 0.99999);
        CHECK(cosine_at(got, golden, i, 384) >= 0.9999);
    }
}
