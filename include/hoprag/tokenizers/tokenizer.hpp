// hoprag::tokenizers::tokenizer: one Hugging Face-compatible tokenizer pipeline — added tokens,
// normaliser, pre-tokeniser, model (WordPiece or BPE), post-processor (special-token templates,
// token type ids, longest-first truncation) and decoder — built from a `tokenizer_spec`. A spec is
// plain data (vocabulary, merges, options), so tokenizer.json is one source of it and GGUF metadata
// can be another. Supported pipelines: BERT WordPiece, byte-level BPE (GPT-2 / SmolLM2) and
// SentencePiece-style BPE with byte fallback and the "▁" metaspace (Llama / Mistral).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hoprag/core/error.hpp"
#include "hoprag/tokenizers/added_tokens.hpp"
#include "hoprag/tokenizers/bpe.hpp"
#include "hoprag/tokenizers/byte_level.hpp"
#include "hoprag/tokenizers/unicode.hpp"
#include "hoprag/tokenizers/vocab.hpp"
#include "hoprag/tokenizers/wordpiece.hpp"

namespace hoprag::tokenizers {

enum class model_kind { wordpiece, bpe };
/// none; BertNormalizer; Prepend("▁") + Replace(" ", "▁") (Llama 2 / Mistral v0.1 tokenizer.json).
enum class normalizer_kind { none, bert, prepend_replace };
/// none (the whole text is one word); BertPreTokenizer; ByteLevel (GPT-2 regex); Metaspace.
enum class pre_tokenizer_kind { none, bert, byte_level, metaspace };
/// sentencepiece: Sequence[Replace("▁", " "), ByteFallback, Fuse, Strip(" ", 1, 0)] (Llama 2);
/// metaspace: the Metaspace decoder ("▁" -> " ", every "▁" of the first token dropped).
enum class decoder_kind { none, wordpiece, byte_level, sentencepiece, metaspace };
enum class prepend_scheme { always, first, never };

/// One element of a post-processing template: a special token or the A/B sequence.
struct template_piece {
    bool is_sequence = false;
    int sequence = 0;               ///< 0 = A, 1 = B (when is_sequence)
    std::vector<token_id> ids;      ///< the special token's ids (when !is_sequence)
    std::int32_t type_id = 0;
};

/// Everything a tokenizer needs, as plain data.
struct tokenizer_spec {
    std::string source = "tokenizer";       ///< file name for error messages
    model_kind model = model_kind::bpe;
    std::vector<std::string> vocab;         ///< id -> token
    std::vector<merge_rule> merges;         ///< BPE merges in rank order
    std::vector<std::int32_t> merge_ranks;  ///< empty, or each merge's rank (SentencePiece: by piece score)
    wordpiece_options wordpiece;
    bpe_options bpe;
    normalizer_kind normalizer = normalizer_kind::none;
    bert_normalizer_options bert;
    std::string replacement = "\xE2\x96\x81";  ///< "▁" for prepend_replace / metaspace
    pre_tokenizer_kind pre_tokenizer = pre_tokenizer_kind::none;
    bool individual_digits = false;         ///< Digits(individual_digits) before ByteLevel
    bool add_prefix_space = false;          ///< ByteLevel add_prefix_space
    prepend_scheme metaspace_prepend = prepend_scheme::always;
    bool metaspace_split = true;
    prepend_scheme decoder_prepend = prepend_scheme::always;  ///< Metaspace decoder
    decoder_kind decoder = decoder_kind::none;
    bool decoder_strip_leading_space = true;  ///< sentencepiece decoder: drop one leading space
    /// SentencePiece remove_extra_whitespaces: drop leading and trailing spaces (U+0020) and fold
    /// runs of spaces into one before the "▁" replacement; trailing "▁" are dropped after it.
    bool remove_extra_whitespaces = false;
    bool wordpiece_cleanup = true;
    std::vector<added_token> added;
    std::vector<template_piece> single_template;  ///< empty: no special tokens added
    std::vector<template_piece> pair_template;
};

/// Token ids and token type ids (0 for the first text, 1 for the second of a pair).
struct encoding {
    std::vector<token_id> ids;
    std::vector<std::int32_t> type_ids;
};

class tokenizer {
public:
    /// Builds the pipeline; throws format_error / config_error naming spec.source on bad data.
    explicit tokenizer(tokenizer_spec spec) : spec_(std::move(spec)), vocab_(spec_.vocab, spec_.source) {
        validate();
        // Added tokens may extend past the model vocabulary: make sure id_to_token finds them.
        if (spec_.model == model_kind::wordpiece) {
            const auto u = vocab_.find(spec_.wordpiece.unk_token);
            if (!u) throw format_error(spec_.source + ": WordPiece unk_token \"" + spec_.wordpiece.unk_token + "\" is not in the vocabulary");
            unk_id_ = *u;
        } else {
            bpe_ = bpe_model(vocab_, spec_.merges, spec_.bpe, spec_.source, spec_.merge_ranks);
        }
        if (spec_.pre_tokenizer == pre_tokenizer_kind::byte_level) {
            byte_char_ = bytes_to_unicode();
            for (int b = 0; b < 256; ++b) {
                std::string s;
                utf8_append(s, byte_char_[static_cast<std::size_t>(b)]);
                // A byte without a token is dropped from the input, as the reference does.
                byte_id_[static_cast<std::size_t>(b)] = vocab_.find(s).value_or(-1);
            }
        }
        for (const auto& t : spec_.added) {  // ids validated above: 0..16M
            const auto i = static_cast<std::size_t>(t.id);
            if (i < vocab_.size()) continue;
            if (i - vocab_.size() >= extra_.size()) extra_.resize(i - vocab_.size() + 1);
            extra_[i - vocab_.size()] = t.content;
        }
        special_.assign(vocab_.size() + extra_.size(), false);
        for (const auto& t : spec_.added) special_[static_cast<std::size_t>(t.id)] = t.special;
        added_ = added_token_matcher(spec_.added);
    }

    /// Number of ids (model vocabulary plus added tokens past its end).
    std::size_t vocab_size() const { return vocab_.size() + extra_.size(); }
    const tokenizer_spec& spec() const { return spec_; }

    /// Id of a token string (vocabulary or added token), or nullopt.
    std::optional<token_id> token_to_id(std::string_view t) const {
        for (const auto& a : spec_.added)
            if (a.content == t) return a.id;
        return vocab_.find(t);
    }
    /// Token string of an id; throws format_error for an id outside the vocabulary.
    const std::string& id_to_token(token_id id) const {
        check_id(id);
        const auto i = static_cast<std::size_t>(id);
        return i < vocab_.size() ? vocab_.token(id) : extra_[i - vocab_.size()];
    }

    /// Ids of `text` without special tokens, appended to `out`.
    void encode_raw(std::string_view text, std::vector<token_id>& out) const {
        bool first = true;
        added_.split(
            text,
            [&](std::string_view plain) {
                encode_plain(plain, first, out);
                first = false;
            },
            [&](const added_token& t) {
                out.push_back(t.id);
                first = false;
            });
    }

    /// Encodes one text; with add_special_tokens the single template applies ([CLS] A [SEP]).
    /// max_length > 0 truncates the text so that the result (specials included) fits.
    encoding encode(std::string_view text, bool add_special_tokens = true, std::size_t max_length = 0) const {
        std::vector<token_id> a;
        encode_raw(text, a);
        if (max_length > 0) {
            const std::size_t added = add_special_tokens ? special_count(spec_.single_template) : 0;
            const std::size_t keep = max_length > added ? max_length - added : 0;
            if (a.size() > keep) a.resize(keep);
        }
        return post_process(a, nullptr, add_special_tokens);
    }

    /// Encodes a pair (cross-encoder input: [CLS] A [SEP] B [SEP], type ids 0 then 1). max_length > 0
    /// truncates with the reference's longest_first strategy.
    encoding encode_pair(std::string_view first, std::string_view second, std::size_t max_length = 0,
                         bool add_special_tokens = true) const {
        std::vector<token_id> a, b;
        encode_raw(first, a);
        encode_raw(second, b);
        if (max_length > 0) {
            const std::size_t added = add_special_tokens ? special_count(spec_.pair_template) : 0;
            truncate_longest_first(a, b, max_length > added ? max_length - added : 0);
        }
        return post_process(a, &b, add_special_tokens);
    }

    /// Encodes each text (same options as encode).
    std::vector<encoding> encode_batch(std::span<const std::string> texts, bool add_special_tokens = true,
                                       std::size_t max_length = 0) const {
        std::vector<encoding> out;
        out.reserve(texts.size());
        for (const auto& t : texts) out.push_back(encode(t, add_special_tokens, max_length));
        return out;
    }

    /// Text of `ids`; special added tokens are dropped when skip_special_tokens. Throws format_error
    /// for an id outside the vocabulary.
    std::string decode(std::span<const token_id> ids, bool skip_special_tokens = true) const {
        std::vector<std::string> tokens;
        tokens.reserve(ids.size());
        for (const token_id id : ids) {
            check_id(id);
            if (skip_special_tokens && special_[static_cast<std::size_t>(id)]) continue;
            tokens.push_back(id_to_token(id));
        }
        switch (spec_.decoder) {
        case decoder_kind::wordpiece: return wordpiece_decode(tokens, spec_.wordpiece.continuing_subword_prefix, spec_.wordpiece_cleanup);
        case decoder_kind::byte_level: return decode_byte_level(tokens);
        case decoder_kind::sentencepiece: return decode_sentencepiece(tokens);
        case decoder_kind::metaspace: return decode_metaspace(tokens);
        case decoder_kind::none: break;
        }
        std::string out;
        for (std::size_t i = 0; i < tokens.size(); ++i) (i ? out += ' ' : out) += tokens[i];
        return out;
    }

private:
    // Combinations this pipeline does not implement are refused rather than silently mis-tokenised.
    void validate() const {
        const auto& src = spec_.source;
        if (spec_.model == model_kind::wordpiece &&
            (spec_.normalizer == normalizer_kind::prepend_replace || spec_.pre_tokenizer == pre_tokenizer_kind::byte_level ||
             spec_.pre_tokenizer == pre_tokenizer_kind::metaspace))
            throw config_error(src + ": WordPiece supports the BERT normalizer and pre-tokenizer only");
        if (spec_.model == model_kind::bpe &&
            (spec_.normalizer == normalizer_kind::bert || spec_.pre_tokenizer == pre_tokenizer_kind::bert))
            throw config_error(src + ": BPE with the BERT normalizer or pre-tokenizer is not supported");
        if (spec_.remove_extra_whitespaces && (spec_.model != model_kind::bpe || spec_.pre_tokenizer == pre_tokenizer_kind::byte_level))
            throw config_error(src + ": remove_extra_whitespaces is implemented for SentencePiece-style BPE only");
        if (spec_.pre_tokenizer == pre_tokenizer_kind::byte_level && spec_.normalizer != normalizer_kind::none)
            throw config_error(src + ": ByteLevel with a normalizer is not supported");
        if (spec_.replacement.empty() || utf8_decode(spec_.replacement).size() != 1)
            throw config_error(src + ": metaspace replacement must be one character, found \"" + spec_.replacement + "\"");
        constexpr token_id max_id = 16'000'000;
        for (const auto& t : spec_.added)
            if (t.id < 0 || t.id > max_id || t.content.empty())
                throw format_error(src + ": added token \"" + t.content + "\" has id " + std::to_string(t.id) +
                                   " (expected a non-empty token with id 0.." + std::to_string(max_id) + ")");
        for (const auto* tmpl : {&spec_.single_template, &spec_.pair_template})
            for (const auto& p : *tmpl)
                for (const auto id : p.ids) {
                    bool known = id >= 0 && static_cast<std::size_t>(id) < vocab_.size();
                    for (const auto& t : spec_.added) known = known || t.id == id;
                    if (!known) throw format_error(src + ": post-processor special token id " + std::to_string(id) + " is not in the vocabulary");
                }
    }

    void check_id(token_id id) const {
        if (id < 0 || static_cast<std::size_t>(id) >= vocab_size())
            throw format_error(spec_.source + ": token id " + std::to_string(id) + " is outside the vocabulary (0.." +
                               std::to_string(vocab_size() - 1) + ")");
    }

    static std::size_t special_count(const std::vector<template_piece>& t) {
        std::size_t n = 0;
        for (const auto& p : t)
            if (!p.is_sequence) n += p.ids.size();
        return n;
    }

    // The reference's LongestFirst for pairs: sizes (n1 <= n2) become (n1, max(n1, L - n1)), or
    // (L/2, L/2 + L%2) when that still does not fit, and each side keeps its first tokens.
    static void truncate_longest_first(std::vector<token_id>& a, std::vector<token_id>& b, std::size_t max_len) {
        if (a.size() + b.size() <= max_len) return;
        std::size_t n1 = a.size(), n2 = b.size();
        const bool swap = n1 > n2;
        if (swap) std::swap(n1, n2);
        if (n1 > max_len) n2 = n1;
        else n2 = std::max(n1, max_len - n1);
        if (n1 + n2 > max_len) {
            n1 = max_len / 2;
            n2 = n1 + max_len % 2;
        }
        if (swap) std::swap(n1, n2);
        if (a.size() > n1) a.resize(n1);
        if (b.size() > n2) b.resize(n2);
    }

    encoding post_process(const std::vector<token_id>& a, const std::vector<token_id>* b, bool add_special) const {
        encoding e;
        const auto& tmpl = b ? spec_.pair_template : spec_.single_template;
        if (!add_special || tmpl.empty()) {
            e.ids = a;
            e.type_ids.assign(a.size(), 0);
            if (b) {
                e.ids.insert(e.ids.end(), b->begin(), b->end());
                e.type_ids.resize(e.ids.size(), 1);
            }
            return e;
        }
        for (const auto& p : tmpl) {
            if (p.is_sequence) {
                const auto& s = p.sequence == 0 ? a : *b;
                e.ids.insert(e.ids.end(), s.begin(), s.end());
                e.type_ids.resize(e.ids.size(), p.type_id);
            } else {
                e.ids.insert(e.ids.end(), p.ids.begin(), p.ids.end());
                e.type_ids.resize(e.ids.size(), p.type_id);
            }
        }
        return e;
    }

    // Normalise, pre-tokenise and run the model on text between added tokens.
    void encode_plain(std::string_view text, bool first_piece, std::vector<token_id>& out) const {
        std::u32string cps = utf8_decode(text);
        if (spec_.model == model_kind::wordpiece) {
            const std::u32string norm = spec_.normalizer == normalizer_kind::bert ? bert_normalize(cps, spec_.bert) : cps;
            const auto word = [&](std::u32string_view w) { wordpiece_encode_word(w, vocab_, spec_.wordpiece, unk_id_, out); };
            if (spec_.pre_tokenizer == pre_tokenizer_kind::bert) bert_pre_tokenize(norm, word);
            else word(norm);
            return;
        }
        if (spec_.pre_tokenizer == pre_tokenizer_kind::byte_level) {
            std::u32string s = cps;
            if (spec_.add_prefix_space && !s.starts_with(U' ')) s.insert(s.begin(), U' ');
            std::string bytes;
            std::vector<token_id> ids;
            const auto word = [&](std::u32string_view w) {
                bytes.clear();
                for (const char32_t c : w) utf8_append(bytes, c);
                ids.clear();
                for (const char b : bytes)
                    if (const token_id id = byte_id_[static_cast<unsigned char>(b)]; id >= 0) ids.push_back(id);
                bpe_.merge(ids);
                out.insert(out.end(), ids.begin(), ids.end());
            };
            const auto regex = [&](std::u32string_view p) { gpt2_split(p, [&](std::size_t b, std::size_t e) { word(p.substr(b, e - b)); }); };
            if (spec_.individual_digits) split_digits(s, [&](std::size_t b, std::size_t e) { regex(std::u32string_view(s).substr(b, e - b)); });
            else regex(s);
            return;
        }
        // SentencePiece-style: spaces become the replacement character, then one word (or one per "▁").
        const std::u32string rep = utf8_decode(spec_.replacement);
        if (spec_.remove_extra_whitespaces) {
            std::size_t n = 0;
            bool prev_space = true;  // drops leading spaces
            for (const char32_t c : cps) {
                if (c == U' ' && prev_space) continue;
                prev_space = c == U' ';
                cps[n++] = c;
            }
            cps.resize(n);
        }
        std::u32string s;
        s.reserve(cps.size() + 1);
        if (spec_.normalizer == normalizer_kind::prepend_replace && !cps.empty()) s += rep;
        for (const char32_t c : cps) {
            if (c == U' ' && (spec_.normalizer == normalizer_kind::prepend_replace || spec_.pre_tokenizer == pre_tokenizer_kind::metaspace)) s += rep;
            else s.push_back(c);
        }
        if (spec_.remove_extra_whitespaces)
            while (s.ends_with(rep)) s.resize(s.size() - rep.size());
        if (spec_.pre_tokenizer == pre_tokenizer_kind::metaspace) {
            const bool prepend = spec_.metaspace_prepend == prepend_scheme::always ||
                                 (spec_.metaspace_prepend == prepend_scheme::first && first_piece);
            if (prepend && !s.empty() && !s.starts_with(rep)) s.insert(0, rep);
            if (spec_.metaspace_split) {
                std::size_t start = 0;
                for (std::size_t i = 1; i <= s.size(); ++i)
                    if (i == s.size() || std::u32string_view(s).substr(i).starts_with(rep)) {
                        bpe_.encode_word(utf8_encode(std::u32string_view(s).substr(start, i - start)), vocab_, out);
                        start = i;
                    }
                return;
            }
        }
        if (!s.empty()) bpe_.encode_word(utf8_encode(s), vocab_, out);
    }

    std::string decode_byte_level(const std::vector<std::string>& tokens) const {
        std::array<int, 512> back{};
        back.fill(-1);
        const auto map = bytes_to_unicode();
        for (int b = 0; b < 256; ++b) back[map[static_cast<std::size_t>(b)]] = b;
        std::string bytes;
        for (const auto& t : tokens) {
            const std::u32string cps = utf8_decode(t);
            bool all = true;
            for (const char32_t c : cps) all = all && c < back.size() && back[c] >= 0;
            if (!all) {
                bytes += t;
                continue;
            }
            for (const char32_t c : cps) bytes.push_back(static_cast<char>(back[c]));
        }
        return utf8_lossy(bytes);
    }

    std::string decode_metaspace(const std::vector<std::string>& tokens) const {
        std::string out;
        for (std::size_t i = 0; i < tokens.size(); ++i) {
            const std::string& t = tokens[i];
            std::size_t pos = 0;
            while (true) {
                const std::size_t f = t.find(spec_.replacement, pos);
                out.append(t, pos, f == std::string::npos ? std::string::npos : f - pos);
                if (f == std::string::npos) break;
                if (i != 0 || spec_.decoder_prepend == prepend_scheme::never) out += ' ';
                pos = f + spec_.replacement.size();
            }
        }
        return out;
    }

    std::string decode_sentencepiece(const std::vector<std::string>& tokens) const {
        std::string out;
        std::string pending;  // bytes of consecutive <0xNN> tokens
        std::size_t pending_count = 0;
        const auto flush = [&] {
            if (pending.empty()) return;
            const std::string fixed = utf8_lossy(pending);
            if (fixed == pending) out += pending;
            else
                for (std::size_t i = 0; i < pending_count; ++i) out += "\xEF\xBF\xBD";
            pending.clear();
            pending_count = 0;
        };
        const auto hexval = [](char c) -> int {
            if (c >= '0' && c <= '9') return c - '0';
            if (c >= 'a' && c <= 'f') return c - 'a' + 10;
            if (c >= 'A' && c <= 'F') return c - 'A' + 10;
            return -1;
        };
        for (const auto& t : tokens) {
            if (t.size() == 6 && t.starts_with("<0x") && t.back() == '>' && hexval(t[3]) >= 0 && hexval(t[4]) >= 0) {
                pending.push_back(static_cast<char>(hexval(t[3]) * 16 + hexval(t[4])));
                ++pending_count;
                continue;
            }
            flush();
            std::size_t pos = 0;
            while (true) {
                const std::size_t f = t.find(spec_.replacement, pos);
                out.append(t, pos, f == std::string::npos ? std::string::npos : f - pos);
                if (f == std::string::npos) break;
                out += ' ';
                pos = f + spec_.replacement.size();
            }
        }
        flush();
        if (spec_.decoder_strip_leading_space && !out.empty() && out[0] == ' ') out.erase(0, 1);
        return out;
    }

    tokenizer_spec spec_;
    vocabulary vocab_;
    std::vector<std::string> extra_;  // added tokens with ids past the model vocabulary
    std::vector<bool> special_;
    added_token_matcher added_;
    bpe_model bpe_;
    token_id unk_id_ = -1;
    std::array<char32_t, 256> byte_char_{};
    std::array<token_id, 256> byte_id_{};
};

}  // namespace hoprag::tokenizers
