// Test-only reader of a GGUF file's tokenizer.ggml.* metadata (header and key/values; tensors are
// not read). It lets the SmolLM2 golden test build its tokenizer from the real GGUF file without
// Python; the library's own GGUF reader (hoprag/io) replaces it once merged.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>
#include <fstream>
#include <stdexcept>
#include <string>

#include "hoprag/tokenizers/gguf_vocab.hpp"

namespace hoprag::test {

inline tokenizers::gguf_tokenizer_metadata read_gguf_tokenizer(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(path + ": cannot open");
    const auto raw = [&](void* p, std::size_t n) {
        if (!in.read(static_cast<char*>(p), static_cast<std::streamsize>(n))) throw std::runtime_error(path + ": truncated");
    };
    const auto u32 = [&] { std::uint32_t v; raw(&v, 4); return v; };
    const auto u64 = [&] { std::uint64_t v; raw(&v, 8); return v; };
    const auto str = [&] {
        const auto n = u64();
        if (n > (1u << 24)) throw std::runtime_error(path + ": string too long");
        std::string s(n, '\0');
        raw(s.data(), n);
        return s;
    };
    const auto scalar_size = [&](std::uint32_t t) -> std::size_t {
        switch (t) {
        case 0: case 1: case 7: return 1;
        case 2: case 3: return 2;
        case 4: case 5: case 6: return 4;
        case 10: case 11: case 12: return 8;
        default: throw std::runtime_error(path + ": unknown GGUF value type " + std::to_string(t));
        }
    };
    char magic[4];
    raw(magic, 4);
    if (std::string(magic, 4) != "GGUF") throw std::runtime_error(path + ": not a GGUF file");
    if (const auto v = u32(); v != 2 && v != 3) throw std::runtime_error(path + ": GGUF version " + std::to_string(v));
    u64();  // tensor count
    const auto n_kv = u64();
    tokenizers::gguf_tokenizer_metadata m;
    for (std::uint64_t k = 0; k < n_kv; ++k) {
        const std::string key = str();
        const auto type = u32();
        if (type == 8) {
            const std::string v = str();
            if (key == "tokenizer.ggml.model") m.model = v;
            if (key == "tokenizer.ggml.pre") m.pre = v;
        } else if (type == 9) {
            const auto et = u32();
            const auto n = u64();
            if (et == 8) {
                std::vector<std::string> v;
                v.reserve(n);
                for (std::uint64_t i = 0; i < n; ++i) v.push_back(str());
                if (key == "tokenizer.ggml.tokens") m.tokens = std::move(v);
                if (key == "tokenizer.ggml.merges") m.merges = std::move(v);
            } else {
                const auto sz = scalar_size(et);
                std::vector<char> bytes(sz * n);
                raw(bytes.data(), bytes.size());
                if (key == "tokenizer.ggml.token_type" && et == 5) {
                    m.token_types.resize(n);
                    std::memcpy(m.token_types.data(), bytes.data(), bytes.size());
                }
            }
        } else {
            const auto sz = scalar_size(type);
            std::uint64_t v = 0;
            raw(&v, sz);
            if (key == "tokenizer.ggml.bos_token_id") m.bos_id = static_cast<std::int32_t>(v);
            if (key == "tokenizer.ggml.add_bos_token") m.add_bos = v != 0;
        }
    }
    return m;
}

}  // namespace hoprag::test
