// The bodies of hoprag's fuzz targets, shared by the libFuzzer entry points (fuzz_*.cpp, built by
// scripts/fuzz) and the regression test (test_fuzz_regressions.cpp), which replays every seed and
// every input a fuzzer ever crashed on. Each body returns true when the input parsed (and was then
// exercised: tensors converted, tokenizer run), false when it was rejected with a hoprag::error.
// Anything else — another exception, a crash, an out-of-bounds read under ASan — is a bug.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "hoprag/io/gguf.hpp"
#include "hoprag/io/safetensors.hpp"
#include "hoprag/tokenizers/gguf_tokenizer.hpp"
#include "hoprag/tokenizers/tokenizer_json.hpp"

namespace hoprag::fuzz {

/// Tensors larger than this are valid but not converted (it would only cost time).
inline constexpr std::uint64_t max_convert = 1u << 20;

/// A fixed probe text: ASCII, punctuation, accents, digits, CJK, emoji, tab, special-token text.
inline constexpr std::string_view probe =
    "Hello, World! caf\xc3\xa9 na\xc3\xafve 12345 \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80  <s>[CLS]<|im_start|> x\ty";

/// Runs a tokenizer over the probe: encode (with and without truncation), pair, decode.
inline void exercise(const tokenizers::tokenizer& tok) {
    const auto e = tok.encode(probe, true, 0);
    (void)tok.decode(e.ids);
    (void)tok.decode(e.ids, false);
    (void)tok.encode_pair("who?", probe, 16, true);
    (void)tok.encode(probe, true, 3);
}

/// safetensors parser, then to_f32 of every tensor.
inline bool safetensors_one(std::span<const std::byte> bytes) {
    try {
        const auto h = io::parse_safetensors(bytes, "fuzz");
        for (const auto& t : h.tensors) {
            if (static_cast<std::uint64_t>(t.numel()) > max_convert) continue;
            volatile float sink = 0.0f;
            for (const float v : t.to_f32()) sink = sink + v;
        }
        return true;
    } catch (const error&) {
        return false;
    }
}

namespace detail {
inline void touch(const io::gguf_value& v) {
    if (const auto* a = v.as_array()) {
        for (std::size_t i = 0; i < a->size(); ++i) touch(a->at(i));
        try { (void)a->ints(); } catch (const error&) {}
        try { (void)a->numbers(); } catch (const error&) {}
        try { (void)a->strings(); } catch (const error&) {}
    } else if (const auto* s = v.as_string()) {
        volatile std::size_t n = 0;
        for (const char c : *s) n = n + static_cast<unsigned char>(c);
    } else {
        (void)v.as_double();
    }
}
}  // namespace detail

/// GGUF parser; every metadata value read back, every dequantisable tensor dequantised, and the
/// tokenizer.ggml.* keys (when present) built into a tokenizer and run.
inline bool gguf_one(std::span<const std::byte> bytes) {
    try {
        const auto h = io::parse_gguf(bytes, "fuzz");
        for (const auto& [k, v] : h.metadata) detail::touch(v);
        for (const auto& t : h.tensors) {
            (void)t.dims();
            if (t.numel() > max_convert) continue;
            try {
                volatile float sink = 0.0f;
                for (const float x : io::dequantize(t)) sink = sink + x;
            } catch (const format_error&) {  // a type hoprag does not dequantise
            }
        }
        if (h.metadata.contains("tokenizer.ggml.tokens"))
            exercise(tokenizers::tokenizer(tokenizers::spec_from_gguf(tokenizers::gguf_metadata_from(h.metadata, "fuzz"), "fuzz")));
        return true;
    } catch (const error&) {
        return false;
    }
}

/// tokenizer.json loader, then the tokenizer run over the probe.
inline bool tokenizer_json_one(std::string_view text) {
    try {
        exercise(tokenizers::tokenizer(tokenizers::parse_tokenizer_json(text, "fuzz")));
        return true;
    } catch (const error&) {
        return false;
    }
}

}  // namespace hoprag::fuzz
