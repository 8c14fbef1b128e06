// SentencePiece tokenizer.model files (a protobuf ModelProto, as Llama 2 and Mistral ship them):
// a minimal bounds-checked protobuf reader (varint, fixed32, fixed64, length-delimited; groups are
// refused), the ModelProto fields a tokenizer needs (pieces with score and type; trainer_spec model
// type, byte_fallback, unk/bos/eos/pad ids; normalizer_spec name, add_dummy_prefix,
// remove_extra_whitespaces, escape_whitespaces) and their translation into a tokenizer_spec.
// Field numbers are those of sentencepiece_model.proto. Supported: BPE models (model_type = 2) with
// the "identity" normalizer: merges are by piece score (the pair whose concatenation has the
// highest score first, leftmost among equals), "▁" metaspace with the dummy prefix, byte fallback
// "<0xNN>", the unknown piece, and control pieces (<s>, </s>) that are never matched in the text.
// Unigram, WORD and CHAR models, NFKC-style normalizers (nmt_nfkc, a precompiled charsmap),
// treat_whitespace_as_suffix and USER_DEFINED / UNUSED pieces are refused with a config_error; a
// malformed file gives a format_error naming the file and the byte offset. Example:
//   const auto tok = hoprag::tokenizers::load_sentencepiece_tokenizer("llama/tokenizer.model");
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "hoprag/core/error.hpp"
#include "hoprag/tokenizers/tokenizer.hpp"

namespace hoprag::tokenizers {

/// Protobuf wire types (the low three bits of a field key).
enum class wire_type : std::uint8_t { varint = 0, fixed64 = 1, length_delimited = 2, start_group = 3, end_group = 4, fixed32 = 5 };

/// A bounds-checked reader over one protobuf message. Offsets in errors are absolute byte offsets
/// in the file (`base` is the message's offset in it).
class protobuf_reader {
public:
    protobuf_reader(std::string_view data, std::string source, std::size_t base = 0)
        : data_(data), source_(std::move(source)), base_(base) {}

    bool done() const { return pos_ >= data_.size(); }
    /// Absolute file offset of the next byte.
    std::size_t offset() const { return base_ + pos_; }
    const std::string& source() const { return source_; }

    /// Reads a base-128 varint (at most 10 bytes, no bits past 64).
    std::uint64_t varint() {
        const std::size_t start = offset();
        std::uint64_t v = 0;
        for (int i = 0; i < 10; ++i) {
            if (pos_ >= data_.size()) throw error_at(start, "truncated varint");
            const auto b = static_cast<std::uint8_t>(data_[pos_++]);
            if (i == 9 && b > 1) throw error_at(start, "varint longer than 64 bits");
            v |= static_cast<std::uint64_t>(b & 0x7f) << (7 * i);
            if ((b & 0x80) == 0) return v;
        }
        throw error_at(start, "varint longer than 10 bytes");
    }

    /// Reads a field key; returns the field number and sets `type`.
    std::uint32_t key(wire_type& type) {
        const std::size_t start = offset();
        const std::uint64_t k = varint();
        const auto t = static_cast<std::uint8_t>(k & 7);
        if (t > 5) throw error_at(start, "invalid wire type " + std::to_string(t));
        if ((k >> 3) == 0 || (k >> 3) > 0x1fffffff) throw error_at(start, "invalid field number " + std::to_string(k >> 3));
        type = static_cast<wire_type>(t);
        return static_cast<std::uint32_t>(k >> 3);
    }

    /// Reads a length-delimited payload (a string or a nested message) without copying.
    std::string_view bytes() {
        const std::size_t start = offset();
        const std::uint64_t n = varint();
        if (n > data_.size() - pos_)
            throw error_at(start, "length " + std::to_string(n) + " runs past the end of its message (" +
                                      std::to_string(data_.size() - pos_) + " bytes left)");
        const std::string_view out = data_.substr(pos_, static_cast<std::size_t>(n));
        pos_ += static_cast<std::size_t>(n);
        return out;
    }

    /// A reader over a nested message read with bytes(); its offsets stay absolute.
    protobuf_reader message() {
        const std::size_t start_pos = pos_;
        const std::string_view payload = bytes();
        const std::size_t header = static_cast<std::size_t>(payload.data() - data_.data()) - start_pos;
        return protobuf_reader(payload, source_, base_ + start_pos + header);
    }

    std::uint32_t fixed32() {
        if (data_.size() - pos_ < 4) throw error_at(offset(), "truncated fixed32");
        std::uint32_t v = 0;
        for (int i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(data_[pos_ + i])) << (8 * i);
        pos_ += 4;
        return v;
    }

    float float32() {
        const std::uint32_t u = fixed32();
        float f;
        std::memcpy(&f, &u, sizeof f);
        return f;
    }

    /// Skips a field of wire type `t` that the caller does not use.
    void skip(wire_type t) {
        switch (t) {
        case wire_type::varint: varint(); return;
        case wire_type::fixed64:
            if (data_.size() - pos_ < 8) throw error_at(offset(), "truncated fixed64");
            pos_ += 8;
            return;
        case wire_type::length_delimited: bytes(); return;
        case wire_type::fixed32: fixed32(); return;
        case wire_type::start_group:
        case wire_type::end_group: break;
        }
        throw error_at(offset(), "protobuf groups are not supported");
    }

    /// Checks that field `field` has wire type `want` (`got`), naming `what` otherwise.
    void expect(wire_type got, wire_type want, std::uint32_t field, std::string_view what) const {
        if (got != want)
            throw error_at(offset(), std::string(what) + " (field " + std::to_string(field) + ") has wire type " +
                                         std::to_string(static_cast<int>(got)) + ", expected " + std::to_string(static_cast<int>(want)));
    }

    format_error error_at(std::size_t at, const std::string& what) const {
        return format_error(source_ + ": byte offset " + std::to_string(at) + ": " + what);
    }

private:
    std::string_view data_;
    std::string source_;
    std::size_t base_ = 0;
    std::size_t pos_ = 0;
};

/// One ModelProto.SentencePiece.
struct sentencepiece_piece {
    enum kind : std::int32_t { normal = 1, unknown = 2, control = 3, user_defined = 4, unused = 5, byte = 6 };
    std::string piece;
    float score = 0.0f;
    std::int32_t type = normal;
};

/// The ModelProto fields hoprag reads, with the proto's defaults.
struct sentencepiece_model {
    std::vector<sentencepiece_piece> pieces;  ///< field 1, id order
    // trainer_spec (field 2)
    std::int32_t model_type = 1;              ///< 3: UNIGRAM = 1, BPE = 2, WORD = 3, CHAR = 4
    bool byte_fallback = false;               ///< 35
    bool treat_whitespace_as_suffix = false;  ///< 24
    std::int32_t unk_id = 0, bos_id = 1, eos_id = 2, pad_id = -1;  ///< 40, 41, 42, 43
    // normalizer_spec (field 3)
    std::string normalizer_name;              ///< 1
    std::size_t precompiled_charsmap_size = 0;  ///< 2 (its length only)
    bool add_dummy_prefix = true;             ///< 3
    bool remove_extra_whitespaces = true;     ///< 4
    bool escape_whitespaces = true;           ///< 5
};

namespace detail {
inline std::int32_t proto_int32(std::uint64_t v) { return static_cast<std::int32_t>(static_cast<std::uint32_t>(v)); }

inline void parse_trainer_spec(protobuf_reader r, sentencepiece_model& m) {
    while (!r.done()) {
        wire_type t;
        const auto f = r.key(t);
        const auto int_field = [&](std::string_view name) {
            r.expect(t, wire_type::varint, f, name);
            return r.varint();
        };
        switch (f) {
        case 3: m.model_type = detail::proto_int32(int_field("trainer_spec.model_type")); break;
        case 24: m.treat_whitespace_as_suffix = int_field("trainer_spec.treat_whitespace_as_suffix") != 0; break;
        case 35: m.byte_fallback = int_field("trainer_spec.byte_fallback") != 0; break;
        case 40: m.unk_id = detail::proto_int32(int_field("trainer_spec.unk_id")); break;
        case 41: m.bos_id = detail::proto_int32(int_field("trainer_spec.bos_id")); break;
        case 42: m.eos_id = detail::proto_int32(int_field("trainer_spec.eos_id")); break;
        case 43: m.pad_id = detail::proto_int32(int_field("trainer_spec.pad_id")); break;
        default: r.skip(t);
        }
    }
}

inline void parse_normalizer_spec(protobuf_reader r, sentencepiece_model& m) {
    while (!r.done()) {
        wire_type t;
        const auto f = r.key(t);
        const auto flag = [&](std::string_view name) {
            r.expect(t, wire_type::varint, f, name);
            return r.varint() != 0;
        };
        switch (f) {
        case 1:
            r.expect(t, wire_type::length_delimited, f, "normalizer_spec.name");
            m.normalizer_name = std::string(r.bytes());
            break;
        case 2:
            r.expect(t, wire_type::length_delimited, f, "normalizer_spec.precompiled_charsmap");
            m.precompiled_charsmap_size = r.bytes().size();
            break;
        case 3: m.add_dummy_prefix = flag("normalizer_spec.add_dummy_prefix"); break;
        case 4: m.remove_extra_whitespaces = flag("normalizer_spec.remove_extra_whitespaces"); break;
        case 5: m.escape_whitespaces = flag("normalizer_spec.escape_whitespaces"); break;
        default: r.skip(t);
        }
    }
}

inline sentencepiece_piece parse_piece(protobuf_reader r, std::size_t index) {
    sentencepiece_piece p;
    const std::string what = "piece " + std::to_string(index);
    while (!r.done()) {
        wire_type t;
        const auto f = r.key(t);
        switch (f) {
        case 1:
            r.expect(t, wire_type::length_delimited, f, what + " string");
            p.piece = std::string(r.bytes());
            break;
        case 2:
            r.expect(t, wire_type::fixed32, f, what + " score");
            p.score = r.float32();
            break;
        case 3: {
            r.expect(t, wire_type::varint, f, what + " type");
            const std::size_t at = r.offset();
            const auto v = r.varint();
            if (v < 1 || v > 6) throw r.error_at(at, what + " has type " + std::to_string(v) + " (expected 1..6)");
            p.type = static_cast<std::int32_t>(v);
            break;
        }
        default: r.skip(t);
        }
    }
    return p;
}
}  // namespace detail

/// Parses a serialized ModelProto; `source` names the file in errors. Throws format_error.
inline sentencepiece_model parse_sentencepiece_model(std::string_view data, const std::string& source) {
    sentencepiece_model m;
    protobuf_reader r(data, source);
    while (!r.done()) {
        wire_type t;
        const auto f = r.key(t);
        switch (f) {
        case 1: {
            r.expect(t, wire_type::length_delimited, f, "pieces");
            const std::size_t at = r.offset();
            m.pieces.push_back(detail::parse_piece(r.message(), m.pieces.size()));
            if (m.pieces.back().piece.empty())
                throw r.error_at(at, "piece " + std::to_string(m.pieces.size() - 1) + " has an empty string");
            break;
        }
        case 2:
            r.expect(t, wire_type::length_delimited, f, "trainer_spec");
            detail::parse_trainer_spec(r.message(), m);
            break;
        case 3:
            r.expect(t, wire_type::length_delimited, f, "normalizer_spec");
            detail::parse_normalizer_spec(r.message(), m);
            break;
        default: r.skip(t);
        }
    }
    if (m.pieces.empty()) throw format_error(source + ": no pieces (not a SentencePiece model?)");
    return m;
}

/// Reads and parses a tokenizer.model file (io_error when it cannot be read).
inline sentencepiece_model read_sentencepiece_model(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw io_error(path.string() + ": cannot open");
    const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) throw io_error(path.string() + ": read failed");
    return parse_sentencepiece_model(data, path.string());
}

/// The tokenizer_spec of a SentencePiece BPE model (see the file comment for what is supported).
/// Merges: every split of a NORMAL piece into two NORMAL pieces, ranked by the piece's score
/// (equal scores share a rank, so the leftmost pair goes first, as SentencePiece does).
inline tokenizer_spec spec_from_sentencepiece(const sentencepiece_model& m, const std::string& source) {
    const auto refuse = [&](const std::string& what) { return config_error(source + ": not supported: " + what); };
    if (m.model_type == 1) throw refuse("Unigram SentencePiece model (model_type UNIGRAM); hoprag reads BPE models only (model_type BPE)");
    if (m.model_type != 2) throw refuse("SentencePiece model_type " + std::to_string(m.model_type) + " (only BPE = 2 is supported)");
    if (m.precompiled_charsmap_size != 0 || (!m.normalizer_name.empty() && m.normalizer_name != "identity"))
        throw refuse("normalizer \"" + m.normalizer_name + "\" with a " + std::to_string(m.precompiled_charsmap_size) +
                     "-byte charsmap (only the identity normalizer is implemented; train with --normalization_rule_name=identity)");
    if (m.treat_whitespace_as_suffix) throw refuse("treat_whitespace_as_suffix");
    if (!m.escape_whitespaces) throw refuse("escape_whitespaces = false");

    tokenizer_spec s;
    s.source = source;
    s.model = model_kind::bpe;
    s.vocab.reserve(m.pieces.size());
    std::unordered_map<std::string_view, std::size_t> normal;  // piece -> id, NORMAL pieces only
    std::optional<std::string> unk;
    for (std::size_t i = 0; i < m.pieces.size(); ++i) {
        const auto& p = m.pieces[i];
        s.vocab.push_back(p.piece);
        if (!std::isfinite(p.score)) throw format_error(source + ": piece " + std::to_string(i) + " \"" + p.piece + "\" has a non-finite score");
        switch (p.type) {
        case sentencepiece_piece::normal: normal.emplace(p.piece, i); break;
        case sentencepiece_piece::unknown:
            if (unk) throw format_error(source + ": two UNKNOWN pieces (\"" + *unk + "\" and \"" + p.piece + "\")");
            unk = p.piece;
            break;
        case sentencepiece_piece::control:
            // Skipped by decode; never matched in the input, as SentencePiece encodes "<s>" as text.
            s.added.push_back({p.piece, static_cast<token_id>(i), true, false});
            break;
        case sentencepiece_piece::user_defined: throw refuse("USER_DEFINED piece \"" + p.piece + "\" (id " + std::to_string(i) + ")");
        case sentencepiece_piece::unused: throw refuse("UNUSED piece \"" + p.piece + "\" (id " + std::to_string(i) + ")");
        case sentencepiece_piece::byte:
            if (!m.byte_fallback) throw format_error(source + ": BYTE piece \"" + p.piece + "\" in a model without byte_fallback");
            break;
        default: break;
        }
    }
    if (!unk) throw format_error(source + ": no UNKNOWN piece");

    // Dense score ranks: the highest score merges first.
    std::vector<float> scores;
    scores.reserve(normal.size());
    for (const auto& [piece, id] : normal) scores.push_back(m.pieces[id].score);
    std::sort(scores.begin(), scores.end(), std::greater<>());
    scores.erase(std::unique(scores.begin(), scores.end()), scores.end());
    for (std::size_t id = 0; id < m.pieces.size(); ++id) {
        const auto& p = m.pieces[id];
        if (p.type != sentencepiece_piece::normal) continue;
        const auto rank = static_cast<std::int32_t>(std::lower_bound(scores.begin(), scores.end(), p.score, std::greater<>()) - scores.begin());
        for (std::size_t k = 1; k < p.piece.size(); ++k) {
            if ((static_cast<unsigned char>(p.piece[k]) & 0xC0) == 0x80) continue;  // not a character boundary
            const std::string_view left(p.piece.data(), k), right(p.piece.data() + k, p.piece.size() - k);
            if (normal.contains(left) && normal.contains(right)) {
                s.merges.emplace_back(std::string(left), std::string(right));
                s.merge_ranks.push_back(rank);
            }
        }
    }

    s.bpe.unk_token = *unk;
    s.bpe.fuse_unk = true;  // SentencePiece joins consecutive unknown pieces
    s.bpe.byte_fallback = m.byte_fallback;
    // add_dummy_prefix: "▁" before the text, as Prepend + Replace does; without it only the spaces.
    if (m.add_dummy_prefix) {
        s.normalizer = normalizer_kind::prepend_replace;
    } else {
        s.pre_tokenizer = pre_tokenizer_kind::metaspace;
        s.metaspace_prepend = prepend_scheme::never;
        s.metaspace_split = false;
    }
    s.remove_extra_whitespaces = m.remove_extra_whitespaces;
    s.decoder = decoder_kind::sentencepiece;
    s.decoder_strip_leading_space = m.add_dummy_prefix || m.remove_extra_whitespaces;
    if (m.bos_id >= 0) {
        if (static_cast<std::size_t>(m.bos_id) >= m.pieces.size())
            throw format_error(source + ": trainer_spec.bos_id " + std::to_string(m.bos_id) + " is not a piece id (" +
                               std::to_string(m.pieces.size()) + " pieces)");
        const token_id bos = m.bos_id;
        s.single_template = {{false, 0, {bos}, 0}, {true, 0, {}, 0}};
        s.pair_template = {{false, 0, {bos}, 0}, {true, 0, {}, 0}, {false, 0, {bos}, 1}, {true, 1, {}, 1}};
    }
    return s;
}

/// The tokenizer of a SentencePiece tokenizer.model file. Throws io_error, format_error (malformed
/// file, naming the byte offset) or config_error (an unsupported model, see the file comment).
inline tokenizer load_sentencepiece_tokenizer(const std::filesystem::path& path) {
    return tokenizer(spec_from_sentencepiece(read_sentencepiece_model(path), path.string()));
}

}  // namespace hoprag::tokenizers
