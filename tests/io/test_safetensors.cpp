// safetensors: a golden file written by the PyPI `safetensors` package (every dtype, odd, empty and
// scalar shapes), round trips through hoprag's writer, sharded checkpoints through an index file,
// the real all-MiniLM-L6-v2 weights against the reference reader, and malformed files, each of
// which must give a format_error naming the file and the tensor.
#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include "hoprag/io/safetensors.hpp"
#include "hoprag/io/safetensors_index.hpp"
#include "support/files.hpp"
#include "support/reference.hpp"

using namespace hoprag;
using test::fresh_dir;
namespace fs = std::filesystem;

namespace {

template <class T>
std::span<const std::byte> as_bytes_of(const std::vector<T>& v) {
    return std::as_bytes(std::span<const T>(v));
}

/// A safetensors image: u64 LE header length, the header text as given, `data_bytes` bytes of data.
std::vector<std::byte> image(const std::string& header, std::size_t data_bytes) {
    std::vector<std::byte> out(8 + header.size() + data_bytes, std::byte{0x5a});
    const std::uint64_t n = header.size();
    std::memcpy(out.data(), &n, 8);
    std::memcpy(out.data() + 8, header.data(), header.size());
    return out;
}

void require_format_error(const std::vector<std::byte>& img, const std::string& mentions) {
    try {
        io::parse_safetensors(img, "bad.safetensors");
        FAIL("expected format_error mentioning '" << mentions << "'");
    } catch (const format_error& e) {
        const std::string msg = e.what();
        INFO(msg);
        REQUIRE(msg.find("bad.safetensors") != std::string::npos);
        REQUIRE(msg.find(mentions) != std::string::npos);
    }
}

}  // namespace

TEST_CASE("safetensors: golden file from the reference package reads exactly", "[io][safetensors]") {
    const fs::path dir = fs::path(test::source_dir()) / "tests" / "golden";
    const io::safetensors_file f(dir / "safetensors_tiny.safetensors");
    const auto want = test::read_json(dir / "safetensors_tiny.json");
    REQUIRE(f.metadata().at("format") == "pt");
    REQUIRE(f.metadata().at("creator") == "hoprag-golden");
    REQUIRE(f.tensors().size() == want["tensors"].size());
    for (const auto& [name, w] : want["tensors"].items()) {
        INFO("tensor " << name);
        const auto& t = f.at(name);
        REQUIRE(io::st_dtype_name(t.type) == w["dtype"].get<std::string>());
        REQUIRE(t.dims.rank == static_cast<int>(w["shape"].size()));
        for (int i = 0; i < t.dims.rank; ++i) REQUIRE(t.dims[i] == w["shape"][static_cast<std::size_t>(i)].get<std::int64_t>());
        const auto got = t.to_f32();
        const auto& values = w["values"];
        REQUIRE(got.size() == values.size());
        for (std::size_t i = 0; i < got.size(); ++i) REQUIRE(got[i] == static_cast<float>(values[i].get<double>()));
    }
    REQUIRE(f.find("nope") == nullptr);
    REQUIRE_THROWS_WITH(f.at("nope"), Catch::Contains("nope") && Catch::Contains("safetensors_tiny"));
    // the 64-bit ints keep their exact values in the raw bytes
    const auto& ids = f.at("i64.ids");
    std::int64_t last = 0;
    std::memcpy(&last, ids.bytes.data() + 16, 8);
    REQUIRE(last == (std::int64_t{1} << 40));
}

TEST_CASE("safetensors: writer round trips every dtype and pads the header", "[io][safetensors]") {
    const auto d = fresh_dir("st-roundtrip");
    const auto a = test::random_floats(7 * 3, 1);
    std::vector<std::uint16_t> h(5), b(5);
    for (std::size_t i = 0; i < 5; ++i) {
        h[i] = f16::from_float(a[i]).bits;
        b[i] = bf16::from_float(a[i]).bits;
    }
    const std::vector<std::int64_t> ids{-1, 0, 9'000'000'000};
    const std::vector<std::uint8_t> u{0, 255, 3};
    const std::vector<double> dbl{0.1, -2.5};
    const std::vector<float> scalar{42.0f};
    std::vector<io::safetensors_entry> entries{
        {"w", io::st_dtype::f32, {7, 3}, as_bytes_of(a)},
        {"h", io::st_dtype::f16, {5}, as_bytes_of(h)},
        {"b", io::st_dtype::bf16, {1, 5}, as_bytes_of(b)},
        {"ids", io::st_dtype::i64, {3}, as_bytes_of(ids)},
        {"u", io::st_dtype::u8, {3}, as_bytes_of(u)},
        {"d", io::st_dtype::f64, {2}, as_bytes_of(dbl)},
        {"s", io::st_dtype::f32, {}, as_bytes_of(scalar)},
        {"empty", io::st_dtype::f32, {0}, {}},
    };
    io::write_safetensors(d / "x.safetensors", entries, {{"step", "12"}});
    const io::safetensors_file f(d / "x.safetensors");
    REQUIRE(f.metadata().at("step") == "12");
    REQUIRE(f.tensors().size() == entries.size());
    std::uint64_t n = 0;
    std::ifstream raw(d / "x.safetensors", std::ios::binary);
    raw.read(reinterpret_cast<char*>(&n), 8);
    REQUIRE(n % 8 == 0);
    for (const auto& e : entries) {
        INFO(e.name);
        const auto& t = f.at(e.name);
        REQUIRE(t.type == e.type);
        REQUIRE(t.dims == e.dims);
        REQUIRE(t.bytes.size() == e.data.size());
        REQUIRE(std::equal(t.bytes.begin(), t.bytes.end(), e.data.begin()));
    }
    REQUIRE(f.at("w").to_f32() == a);
    const auto hv = f.at("h").to_f32();
    const auto bv = f.at("b").to_f32();
    for (std::size_t i = 0; i < 5; ++i) {
        REQUIRE(hv[i] == f16::from_bits(h[i]).to_float());
        REQUIRE(bv[i] == bf16::from_bits(b[i]).to_float());
        REQUIRE(std::abs(hv[i] - a[i]) <= 1e-3f * std::abs(a[i]) + 1e-7f);
    }
    REQUIRE(f.at("ids").to_f32() == std::vector<float>{-1.0f, 0.0f, 9e9f});
    REQUIRE(f.at("d").to_f32() == std::vector<float>{0.1f, -2.5f});
    REQUIRE(f.at("s").to_f32() == scalar);
    REQUIRE(f.at("empty").to_f32().empty());
    std::vector<float> wrong(3);
    REQUIRE_THROWS_AS(f.at("w").to_f32(wrong), shape_error);

    SECTION("writer refuses bad entries and leaves the old file") {
        std::vector<io::safetensors_entry> bad{{"w", io::st_dtype::f32, {7, 4}, as_bytes_of(a)}};
        REQUIRE_THROWS_AS(io::write_safetensors(d / "x.safetensors", bad), shape_error);
        std::vector<io::safetensors_entry> dup{{"s", io::st_dtype::f32, {}, as_bytes_of(scalar)},
                                               {"s", io::st_dtype::f32, {}, as_bytes_of(scalar)}};
        REQUIRE_THROWS_AS(io::write_safetensors(d / "x.safetensors", dup), format_error);
        std::vector<io::safetensors_entry> reserved{{"__metadata__", io::st_dtype::f32, {}, as_bytes_of(scalar)}};
        REQUIRE_THROWS_AS(io::write_safetensors(d / "x.safetensors", reserved), format_error);
        REQUIRE(io::safetensors_file(d / "x.safetensors").tensors().size() == entries.size());
    }
}

TEST_CASE("safetensors: FP8 and bool conversions", "[io][safetensors]") {
    const std::vector<std::uint8_t> e4{0x00, 0x38, 0xb8, 0x7e, 0x01, 0x7f}, e5{0x3c, 0x7b, 0x7c, 0x01};
    const std::vector<std::uint8_t> bo{0, 1, 2};
    const auto d = fresh_dir("st-fp8");
    std::vector<io::safetensors_entry> entries{{"e4", io::st_dtype::f8_e4m3, {6}, as_bytes_of(e4)},
                                              {"e5", io::st_dtype::f8_e5m2, {4}, as_bytes_of(e5)},
                                              {"bo", io::st_dtype::boolean, {3}, as_bytes_of(bo)}};
    io::write_safetensors(d / "f8.safetensors", entries);
    const io::safetensors_file f(d / "f8.safetensors");
    const auto v4 = f.at("e4").to_f32();
    REQUIRE(v4[0] == 0.0f);
    REQUIRE(v4[1] == 1.0f);
    REQUIRE(v4[2] == -1.0f);
    REQUIRE(v4[3] == 448.0f);                     // largest E4M3FN value
    REQUIRE(v4[4] == std::ldexp(1.0f, -9));       // smallest subnormal
    REQUIRE(std::isnan(v4[5]));
    const auto v5 = f.at("e5").to_f32();
    REQUIRE(v5 == std::vector<float>{1.0f, 57344.0f, INFINITY, std::ldexp(1.0f, -16)});
    REQUIRE(f.at("bo").to_f32() == std::vector<float>{0.0f, 1.0f, 1.0f});
}

TEST_CASE("safetensors: sharded checkpoint through model.safetensors.index.json", "[io][safetensors]") {
    const auto d = fresh_dir("st-sharded");
    const auto a = test::random_floats(6, 2), b = test::random_floats(4, 3), c = test::random_floats(3, 4);
    io::write_safetensors(d / "model-00001-of-00002.safetensors",
                          std::vector<io::safetensors_entry>{{"layer.0.w", io::st_dtype::f32, {2, 3}, as_bytes_of(a)},
                                                             {"layer.0.b", io::st_dtype::f32, {4}, as_bytes_of(b)}});
    io::write_safetensors(d / "model-00002-of-00002.safetensors",
                          std::vector<io::safetensors_entry>{{"layer.1.w", io::st_dtype::f32, {3}, as_bytes_of(c)}});
    nlohmann::json index = {{"metadata", {{"total_size", 52}}},
                            {"weight_map",
                             {{"layer.0.w", "model-00001-of-00002.safetensors"},
                              {"layer.0.b", "model-00001-of-00002.safetensors"},
                              {"layer.1.w", "model-00002-of-00002.safetensors"}}}};
    io::write_file_durably(d / "model.safetensors.index.json", index.dump());
    const io::safetensors_checkpoint ck(d);
    REQUIRE(ck.shards().size() == 2);
    REQUIRE(ck.tensors().size() == 3);
    REQUIRE(ck.at("layer.0.w").to_f32() == a);
    REQUIRE(ck.at("layer.0.b").to_f32() == b);
    REQUIRE(ck.at("layer.1.w").to_f32() == c);
    REQUIRE(ck.metadata().at("total_size") == "52");
    REQUIRE_THROWS_WITH(ck.at("layer.2.w"), Catch::Contains("layer.2.w"));

    SECTION("a weight_map entry pointing at the wrong shard") {
        index["weight_map"]["layer.1.w"] = "model-00001-of-00002.safetensors";
        io::write_file_durably(d / "model.safetensors.index.json", index.dump());
        REQUIRE_THROWS_WITH(io::safetensors_checkpoint(d), Catch::Contains("layer.1.w") && Catch::Contains("does not hold it"));
    }
    SECTION("a tensor present in two shards") {
        io::write_safetensors(d / "model-00002-of-00002.safetensors",
                              std::vector<io::safetensors_entry>{{"layer.1.w", io::st_dtype::f32, {3}, as_bytes_of(c)},
                                                                 {"layer.0.b", io::st_dtype::f32, {4}, as_bytes_of(b)}});
        REQUIRE_THROWS_WITH(io::safetensors_checkpoint(d / "model.safetensors.index.json"),
                            Catch::Contains("layer.0.b") && Catch::Contains("more than one shard"));
    }
    SECTION("a missing shard file and a shard path leaving the folder") {
        index["weight_map"]["layer.1.w"] = "model-00003-of-00002.safetensors";
        io::write_file_durably(d / "model.safetensors.index.json", index.dump());
        REQUIRE_THROWS_AS(io::safetensors_checkpoint(d), io_error);
        index["weight_map"]["layer.1.w"] = "../elsewhere.safetensors";
        io::write_file_durably(d / "model.safetensors.index.json", index.dump());
        REQUIRE_THROWS_AS(io::safetensors_checkpoint(d), format_error);
    }
    SECTION("a broken index") {
        io::write_file_durably(d / "model.safetensors.index.json", std::string_view("{\"weight_map\": [1,"));
        REQUIRE_THROWS_AS(io::safetensors_checkpoint(d), format_error);
    }
}

TEST_CASE("safetensors: real all-MiniLM-L6-v2 weights match the reference reader", "[io][safetensors][model]") {
    const fs::path model = fs::path(test::source_dir()) / ".cache" / "models" / "all-minilm-l6-v2";
    test::require_setup_input(model / "model.safetensors");
    const io::safetensors_checkpoint ck(model);
    const auto want = test::read_json(fs::path(test::source_dir()) / "tests" / "golden" / "safetensors_minilm.json");
    REQUIRE(ck.tensors().size() == want.size());
    REQUIRE(want.size() == 104);
    for (const auto& [name, w] : want.items()) {
        INFO("tensor " << name);
        const auto& t = ck.at(name);
        REQUIRE(io::st_dtype_name(t.type) == w["dtype"].get<std::string>());
        REQUIRE(t.dims.rank == static_cast<int>(w["shape"].size()));
        for (int i = 0; i < t.dims.rank; ++i) REQUIRE(t.dims[i] == w["shape"][static_cast<std::size_t>(i)].get<std::int64_t>());
        const auto v = t.to_f32();
        double sum = 0;
        for (float x : v) sum += x;
        REQUIRE(sum == Approx(w["sum"].get<double>()).epsilon(1e-9).margin(1e-9));
        for (std::size_t i = 0; i < w["first"].size(); ++i) REQUIRE(v[i] == static_cast<float>(w["first"][i].get<double>()));
    }
    REQUIRE(ck.at("embeddings.word_embeddings.weight").dims == shape{30522, 384});
}

TEST_CASE("safetensors: malformed files give format_error naming file and tensor", "[io][safetensors]") {
    const std::string ok = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F16","shape":[3],"data_offsets":[8,14]}})";
    REQUIRE(io::parse_safetensors(image(ok, 14), "good").tensors.size() == 2);

    require_format_error(std::vector<std::byte>(5), "shorter than the 8-byte");
    require_format_error([&] { auto v = image(ok, 14); v.resize(8 + 10); return v; }(), "exceeds");       // truncated header
    require_format_error([&] { auto v = image(ok, 14); v.pop_back(); return v; }(), "'b'");               // truncated data
    require_format_error(image(ok, 15), "cover 14 bytes");                                                // trailing bytes
    require_format_error(image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})", 8), "not valid JSON");
    require_format_error(image(R"([1, 2])", 0), "start with '{'");
    require_format_error(image(R"({"a":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}})", 8), "unknown dtype 'F33'");
    require_format_error(image(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8), "'a'");
    require_format_error(image(R"({"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}})", 8), "non-negative integer");
    require_format_error(image(R"({"a":{"dtype":"F32","data_offsets":[0,8]}})", 8), "'shape'");
    require_format_error(image(R"({"a":{"dtype":"F32","shape":[2]}})", 8), "data_offsets");
    require_format_error(image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8), "begin > end");
    require_format_error(image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,80]}})", 8), "past the data region");
    require_format_error(image(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8), "needs 12 bytes");   // shape/size
    require_format_error(image(R"({"a":{"dtype":"F64","shape":[2],"data_offsets":[0,8]}})", 8), "'a'");             // dtype/size
    require_format_error(image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12),
                         "overlap");
    require_format_error(image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}})", 16),
                         "gap");
    require_format_error(image(R"({"a":{"dtype":"U8","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,8]}})", 8), "overflowing");
    require_format_error(image(R"({"a":{"dtype":"U8","shape":[1,1,1,1,1,1,1],"data_offsets":[0,1]}})", 1), "max_rank");
    require_format_error(image(R"({"__metadata__":{"k":1}})", 0), "__metadata__");
    require_format_error(image(R"({"__metadata__":[]})", 0), "__metadata__");
    require_format_error(image(R"({"a":[1]})", 0), "'a'");
    {   // header length field larger than the file, near 2^64
        auto v = image(ok, 14);
        const std::uint64_t huge = ~std::uint64_t{0} - 3;
        std::memcpy(v.data(), &huge, 8);
        require_format_error(v, "exceeds");
    }
    // an empty header object with no data is a valid (empty) file
    REQUIRE(io::parse_safetensors(image("{}", 0), "empty").tensors.empty());

    SECTION("through a file on disk") {
        const auto d = fresh_dir("st-bad");
        const auto v = image(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", 4);
        io::write_file_durably(d / "bad.safetensors", v);
        REQUIRE_THROWS_WITH(io::safetensors_file(d / "bad.safetensors"), Catch::Contains("bad.safetensors") && Catch::Contains("'w'"));
    }
}
