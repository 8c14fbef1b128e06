// One entry point for every tokenizer file hoprag reads: `load_tokenizer(path)` accepts a
// tokenizer.json (WordPiece, byte-level BPE, SentencePiece-style BPE), a GGUF model file (its
// tokenizer.ggml.* metadata) or a model folder holding either. A file is recognised by its content
// (GGUF magic, protobuf vs JSON), not its name. A SentencePiece tokenizer.model (protobuf) is read
// by sentencepiece_model.hpp (BPE models with the identity normalizer; others get a config_error).
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "hoprag/core/error.hpp"
#include "hoprag/tokenizers/gguf_tokenizer.hpp"
#include "hoprag/tokenizers/sentencepiece_model.hpp"
#include "hoprag/tokenizers/tokenizer_json.hpp"

namespace hoprag::tokenizers {

/// What a tokenizer file holds, judged by its first bytes (and, for a folder, the files in it).
enum class tokenizer_file_kind { json, gguf, sentencepiece_model };

namespace detail {
inline tokenizer_file_kind sniff_tokenizer_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw io_error(file.string() + ": cannot open (expected a tokenizer.json, a GGUF file or a model folder)");
    char head[4] = {};
    in.read(head, 4);
    const auto n = in.gcount();
    if (n == 4 && head[0] == 'G' && head[1] == 'G' && head[2] == 'U' && head[3] == 'F') return tokenizer_file_kind::gguf;
    // A SentencePiece ModelProto starts with field 1 (pieces), wire type 2: the byte 0x0a. JSON
    // starts with '{' after optional whitespace; anything else goes to the JSON parser, which names it.
    if (n >= 1 && static_cast<unsigned char>(head[0]) == 0x0a && file.extension() != ".json") return tokenizer_file_kind::sentencepiece_model;
    if (file.filename() == "tokenizer.model") return tokenizer_file_kind::sentencepiece_model;
    return tokenizer_file_kind::json;
}
}  // namespace detail

/// Loads the tokenizer at `path`: a tokenizer.json, a GGUF file, a SentencePiece tokenizer.model, or
/// a folder holding tokenizer.json (preferred), a single *.gguf file, or tokenizer.model. Throws io_error
/// (nothing readable found), format_error (malformed file) or config_error (unsupported pipeline).
inline tokenizer load_tokenizer(const std::filesystem::path& path) {
    std::filesystem::path file = path;
    if (std::filesystem::is_directory(path)) {
        if (std::filesystem::is_regular_file(path / "tokenizer.json")) {
            file = path / "tokenizer.json";
        } else {
            std::vector<std::filesystem::path> ggufs;
            for (const auto& e : std::filesystem::directory_iterator(path))
                if (e.is_regular_file() && e.path().extension() == ".gguf") ggufs.push_back(e.path());
            if (ggufs.size() > 1)
                throw io_error(path.string() + ": holds " + std::to_string(ggufs.size()) + " GGUF files and no tokenizer.json; pass one file");
            if (ggufs.size() == 1) file = ggufs.front();
            else if (std::filesystem::is_regular_file(path / "tokenizer.model")) file = path / "tokenizer.model";
            else throw io_error(path.string() + ": no tokenizer.json, *.gguf or tokenizer.model in this folder");
        }
    }
    switch (detail::sniff_tokenizer_file(file)) {
        case tokenizer_file_kind::gguf: return load_gguf_tokenizer(file);
        case tokenizer_file_kind::sentencepiece_model: return load_sentencepiece_tokenizer(file);
        case tokenizer_file_kind::json: break;
    }
    return load_tokenizer_json(file);
}

}  // namespace hoprag::tokenizers
