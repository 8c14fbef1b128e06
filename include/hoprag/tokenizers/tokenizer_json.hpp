// Loading a Hugging Face tokenizer.json (or a model folder holding one) into a tokenizer_spec and a
// tokenizer. Supported: model WordPiece or BPE (merges as "a b" strings or [a, b] pairs);
// normalizer BertNormalizer, Sequence[Prepend, Replace] or null; pre_tokenizer BertPreTokenizer,
// ByteLevel, Sequence[Digits, ByteLevel], Metaspace or null; post_processor TemplateProcessing,
// BertProcessing, ByteLevel or null; decoder WordPiece, ByteLevel, Metaspace, the Llama 2 Sequence
// [Replace, ByteFallback, Fuse, Strip] or null. Anything else is a config_error that names it.
// The file's "truncation" and "padding" sections are ignored: callers pass max_length explicitly.
// Added tokens are matched on the raw text; lstrip / rstrip / single_word, and normalized = true
// with a normalizer, are refused with a config_error rather than tokenised differently.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <stdexcept>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>

#include "hoprag/core/error.hpp"
#include "hoprag/tokenizers/tokenizer.hpp"

namespace hoprag::tokenizers {

namespace detail {

inline const nlohmann::json& member(const nlohmann::json& j, const char* key, const std::string& where) {
    if (!j.is_object() || !j.contains(key))
        throw format_error(where + ": missing field \"" + key + "\"");
    return j.at(key);
}

inline std::string type_of(const nlohmann::json& j, const std::string& where) {
    const auto& t = member(j, "type", where);
    if (!t.is_string()) throw format_error(where + ": field \"type\" is not a string");
    return t.get<std::string>();
}

/// A field of the wrong kind found below the file level; parse_tokenizer_json adds the file name.
struct field_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// `v` as an integer of type T. nlohmann's get<T>() on a float (1e42 is one) or an out-of-range
/// integer would convert with undefined behaviour, so the kind and range are checked first.
template <class T>
T as_int(const nlohmann::json& v, std::string_view what) {
    static_assert(std::is_integral_v<T> && !std::is_same_v<T, bool>);
    if (!v.is_number_integer()) throw field_error(std::string(what) + " is " + v.dump() + ", expected an integer");
    bool ok;
    if (v.is_number_unsigned()) ok = v.get<std::uint64_t>() <= static_cast<std::uint64_t>(std::numeric_limits<T>::max());
    else {
        const auto x = v.get<std::int64_t>();
        ok = std::is_signed_v<T> ? x >= static_cast<std::int64_t>(std::numeric_limits<T>::min()) &&
                                       (sizeof(T) >= 8 || x <= static_cast<std::int64_t>(std::numeric_limits<T>::max()))
                                 : x >= 0;
    }
    if (!ok) throw field_error(std::string(what) + " = " + v.dump() + " is out of range");
    return v.get<T>();
}

template <class T>
T get_or(const nlohmann::json& j, const char* key, T fallback) {
    if (!j.is_object() || !j.contains(key) || j.at(key).is_null()) return fallback;
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) return as_int<T>(j.at(key), std::string("field \"") + key + "\"");
    else return j.at(key).get<T>();
}

inline void parse_normalizer(const nlohmann::json& n, tokenizer_spec& s) {
    const std::string where = s.source + ": normalizer";
    if (n.is_null()) return;
    const std::string type = type_of(n, where);
    if (type == "BertNormalizer") {
        s.normalizer = normalizer_kind::bert;
        s.bert.clean_text = get_or(n, "clean_text", true);
        s.bert.handle_chinese_chars = get_or(n, "handle_chinese_chars", true);
        s.bert.lowercase = get_or(n, "lowercase", true);
        s.bert.strip_accents = get_or(n, "strip_accents", s.bert.lowercase);
        return;
    }
    if (type == "Sequence") {
        const auto& list = member(n, "normalizers", where);
        if (list.is_array() && list.size() == 2 && type_of(list[0], where) == "Prepend" && type_of(list[1], where) == "Replace") {
            const auto prepend = member(list[0], "prepend", where).get<std::string>();
            const auto& pattern = member(list[1], "pattern", where);
            const auto content = member(list[1], "content", where).get<std::string>();
            if (pattern.is_object() && pattern.contains("String") && pattern["String"] == " " && content == prepend) {
                s.normalizer = normalizer_kind::prepend_replace;
                s.replacement = prepend;
                return;
            }
        }
        if (list.is_array() && list.empty()) return;
    }
    throw config_error(where + ": unsupported normalizer " + n.dump().substr(0, 200) +
                       " (supported: BertNormalizer, Sequence[Prepend(x), Replace(' ', x)], null)");
}

inline void parse_pre_tokenizer(const nlohmann::json& p, tokenizer_spec& s) {
    const std::string where = s.source + ": pre_tokenizer";
    if (p.is_null()) return;
    const std::string type = type_of(p, where);
    const auto byte_level = [&](const nlohmann::json& b) {
        if (!get_or(b, "use_regex", true))
            throw config_error(where + ": ByteLevel with use_regex = false is not supported");
        s.pre_tokenizer = pre_tokenizer_kind::byte_level;
        s.add_prefix_space = get_or(b, "add_prefix_space", false);
    };
    if (type == "BertPreTokenizer") {
        s.pre_tokenizer = pre_tokenizer_kind::bert;
        return;
    }
    if (type == "ByteLevel") {
        byte_level(p);
        return;
    }
    if (type == "Metaspace") {
        s.pre_tokenizer = pre_tokenizer_kind::metaspace;
        s.replacement = get_or<std::string>(p, "replacement", s.replacement);
        s.metaspace_split = get_or(p, "split", true);
        const auto scheme = get_or<std::string>(p, "prepend_scheme", get_or(p, "add_prefix_space", true) ? "always" : "never");
        s.metaspace_prepend = scheme == "first" ? prepend_scheme::first : scheme == "never" ? prepend_scheme::never : prepend_scheme::always;
        return;
    }
    if (type == "Sequence") {
        const auto& list = member(p, "pretokenizers", where);
        if (list.is_array() && list.size() == 2 && type_of(list[0], where) == "Digits" &&
            get_or(list[0], "individual_digits", false) && type_of(list[1], where) == "ByteLevel") {
            s.individual_digits = true;
            byte_level(list[1]);
            return;
        }
        if (list.is_array() && list.size() == 1 && type_of(list[0], where) == "ByteLevel") {
            byte_level(list[0]);
            return;
        }
    }
    throw config_error(where + ": unsupported pre-tokenizer " + p.dump().substr(0, 200) +
                       " (supported: BertPreTokenizer, ByteLevel, Sequence[Digits(individual), ByteLevel], Metaspace, null)");
}

inline std::vector<template_piece> parse_template(const nlohmann::json& t, const nlohmann::json& specials,
                                                  const tokenizer_spec& s, const std::string& where) {
    std::vector<template_piece> out;
    if (!t.is_array()) throw format_error(where + ": template is not an array");
    for (const auto& item : t) {
        template_piece p;
        if (item.contains("Sequence")) {
            p.is_sequence = true;
            p.sequence = member(item["Sequence"], "id", where).get<std::string>() == "B" ? 1 : 0;
            p.type_id = get_or(item["Sequence"], "type_id", 0);
        } else if (item.contains("SpecialToken")) {
            const auto name = member(item["SpecialToken"], "id", where).get<std::string>();
            p.type_id = get_or(item["SpecialToken"], "type_id", 0);
            if (!specials.contains(name))
                throw format_error(where + ": special token \"" + name + "\" used in the template is not in special_tokens");
            const auto& ids = member(specials[name], "ids", where);
            if (!ids.is_array()) throw format_error(where + ": special_tokens \"" + name + "\" ids is not an array");
            for (const auto& id : ids) p.ids.push_back(as_int<token_id>(id, "post_processor special token id"));
        } else {
            throw format_error(where + ": template item " + item.dump() + " is neither Sequence nor SpecialToken");
        }
        out.push_back(std::move(p));
    }
    (void)s;
    return out;
}

inline void parse_post_processor(const nlohmann::json& p, tokenizer_spec& s) {
    const std::string where = s.source + ": post_processor";
    if (p.is_null()) return;
    const std::string type = type_of(p, where);
    if (type == "ByteLevel") return;  // offsets only
    if (type == "TemplateProcessing") {
        const auto& specials = member(p, "special_tokens", where);
        s.single_template = parse_template(member(p, "single", where), specials, s, where);
        s.pair_template = parse_template(member(p, "pair", where), specials, s, where);
        return;
    }
    if (type == "BertProcessing") {
        const auto sep = member(p, "sep", where), cls = member(p, "cls", where);  // ["[SEP]", 102]
        const token_id sep_id = as_int<token_id>(sep.at(1), "post_processor sep id"), cls_id = as_int<token_id>(cls.at(1), "post_processor cls id");
        s.single_template = {{false, 0, {cls_id}, 0}, {true, 0, {}, 0}, {false, 0, {sep_id}, 0}};
        s.pair_template = {{false, 0, {cls_id}, 0}, {true, 0, {}, 0}, {false, 0, {sep_id}, 0}, {true, 1, {}, 1}, {false, 0, {sep_id}, 1}};
        return;
    }
    throw config_error(where + ": unsupported post-processor type \"" + type + "\" (supported: TemplateProcessing, BertProcessing, ByteLevel, null)");
}

inline void parse_decoder(const nlohmann::json& d, tokenizer_spec& s) {
    const std::string where = s.source + ": decoder";
    if (d.is_null()) return;
    const std::string type = type_of(d, where);
    if (type == "WordPiece") {
        s.decoder = decoder_kind::wordpiece;
        s.wordpiece_cleanup = get_or(d, "cleanup", true);
        return;
    }
    if (type == "ByteLevel") {
        s.decoder = decoder_kind::byte_level;
        return;
    }
    if (type == "Metaspace") {
        s.decoder = decoder_kind::metaspace;
        const auto scheme = get_or<std::string>(d, "prepend_scheme", get_or(d, "add_prefix_space", true) ? "always" : "never");
        s.decoder_prepend = scheme == "never" ? prepend_scheme::never : scheme == "first" ? prepend_scheme::first : prepend_scheme::always;
        if (get_or<std::string>(d, "replacement", s.replacement) != s.replacement)
            throw config_error(where + ": Metaspace decoder replacement differs from the pre-tokenizer's");
        return;
    }
    if (type == "Sequence") {
        const auto& list = member(d, "decoders", where);
        std::string kinds;
        for (const auto& x : list) kinds += type_of(x, where) + ",";
        if (kinds == "Replace,ByteFallback,Fuse,Strip,") {
            s.decoder = decoder_kind::sentencepiece;
            return;
        }
    }
    throw config_error(where + ": unsupported decoder " + d.dump().substr(0, 200) +
                       " (supported: WordPiece, ByteLevel, Metaspace, Sequence[Replace, ByteFallback, Fuse, Strip], null)");
}

}  // namespace detail

/// Builds a tokenizer_spec from the text of a tokenizer.json; `source` names it in errors.
inline tokenizer_spec parse_tokenizer_json(std::string_view text, const std::string& source) {
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text.begin(), text.end());
    } catch (const nlohmann::json::exception& e) {
        throw format_error(source + ": not valid JSON (" + e.what() + ")");
    }
    tokenizer_spec s;
    s.source = source;
    try {
        const auto& model = detail::member(j, "model", source);
        const std::string type = detail::get_or<std::string>(model, "type", model.contains("merges") ? "BPE" : "WordPiece");
        const auto& vocab = detail::member(model, "vocab", source + ": model");
        if (!vocab.is_object()) throw format_error(source + ": model.vocab is not an object of token -> id");
        std::size_t n = 0;
        for (const auto& [tok, id] : vocab.items()) {
            const auto v = detail::as_int<std::int64_t>(id, "model.vocab id of \"" + tok + "\"");
            if (v < 0 || v > 16'000'000) throw format_error(source + ": token \"" + tok + "\" has id " + std::to_string(v) + " (expected 0..16000000)");
            n = std::max(n, static_cast<std::size_t>(v) + 1);
        }
        s.vocab.assign(n, std::string{});
        for (const auto& [tok, id] : vocab.items()) {
            auto& slot = s.vocab[id.get<std::size_t>()];  // an integer in 0..16M, checked above
            if (!slot.empty()) throw format_error(source + ": id " + std::to_string(id.get<std::size_t>()) + " is used by \"" + slot + "\" and \"" + tok + "\"");
            slot = tok;
        }
        if (type == "WordPiece") {
            s.model = model_kind::wordpiece;
            s.wordpiece.unk_token = detail::get_or<std::string>(model, "unk_token", "[UNK]");
            s.wordpiece.continuing_subword_prefix = detail::get_or<std::string>(model, "continuing_subword_prefix", "##");
            s.wordpiece.max_input_chars_per_word = detail::get_or<std::size_t>(model, "max_input_chars_per_word", 100);
        } else if (type == "BPE") {
            s.model = model_kind::bpe;
            if (!detail::get_or<std::string>(model, "continuing_subword_prefix", "").empty() ||
                !detail::get_or<std::string>(model, "end_of_word_suffix", "").empty())
                throw config_error(source + ": BPE with continuing_subword_prefix / end_of_word_suffix is not supported");
            if (!model.value("dropout", nlohmann::json()).is_null() && model["dropout"].get<double>() > 0.0)
                throw config_error(source + ": BPE dropout is not supported (tokenisation would be random)");
            if (detail::get_or(model, "ignore_merges", false))
                throw config_error(source + ": BPE ignore_merges = true is not supported");
            if (model.contains("unk_token") && !model["unk_token"].is_null()) s.bpe.unk_token = model["unk_token"].get<std::string>();
            s.bpe.fuse_unk = detail::get_or(model, "fuse_unk", false);
            s.bpe.byte_fallback = detail::get_or(model, "byte_fallback", false);
            for (const auto& m : detail::member(model, "merges", source + ": model")) {
                if (m.is_string()) {
                    const auto str = m.get<std::string>();
                    const auto sp = str.find(' ', 1);
                    if (sp == std::string::npos) throw format_error(source + ": merge \"" + str + "\" has no space");
                    s.merges.emplace_back(str.substr(0, sp), str.substr(sp + 1));
                } else if (m.is_array() && m.size() == 2) {
                    s.merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
                } else {
                    throw format_error(source + ": merge " + m.dump() + " is neither \"a b\" nor [a, b]");
                }
            }
        } else {
            throw config_error(source + ": unsupported model type \"" + type + "\" (supported: WordPiece, BPE)");
        }
        for (const auto& a : j.value("added_tokens", nlohmann::json::array())) {
            added_token t;
            t.content = detail::member(a, "content", source + ": added_tokens").get<std::string>();
            t.id = detail::as_int<token_id>(detail::member(a, "id", source + ": added_tokens"), "added_tokens id");
            t.special = detail::get_or(a, "special", false);
            for (const char* flag : {"lstrip", "rstrip", "single_word"})
                if (detail::get_or(a, flag, false))
                    throw config_error(source + ": added token \"" + t.content + "\" sets " + flag + ", which is not supported yet");
            if (detail::get_or(a, "normalized", false) && !j.value("normalizer", nlohmann::json()).is_null())
                throw config_error(source + ": added token \"" + t.content + "\" is matched after normalisation "
                                   "(normalized = true), which is not supported yet");
            s.added.push_back(std::move(t));
        }
        detail::parse_normalizer(j.value("normalizer", nlohmann::json()), s);
        detail::parse_pre_tokenizer(j.value("pre_tokenizer", nlohmann::json()), s);
        detail::parse_post_processor(j.value("post_processor", nlohmann::json()), s);
        detail::parse_decoder(j.value("decoder", nlohmann::json()), s);  // after pre_tokenizer (replacement)
    } catch (const nlohmann::json::exception& e) {
        throw format_error(source + ": unexpected structure (" + e.what() + ")");
    } catch (const detail::field_error& e) {
        throw format_error(source + ": " + e.what());
    }
    return s;
}

/// Loads a tokenizer from a tokenizer.json file or from a folder that holds one.
inline tokenizer load_tokenizer_json(const std::filesystem::path& path) {
    std::filesystem::path file = path;
    if (std::filesystem::is_directory(file)) file /= "tokenizer.json";
    std::ifstream in(file, std::ios::binary);
    if (!in) throw io_error(file.string() + ": cannot open (expected a tokenizer.json or a folder holding one)");
    std::ostringstream ss;
    ss << in.rdbuf();
    if (!in && !in.eof()) throw io_error(file.string() + ": read failed");
    return tokenizer(parse_tokenizer_json(ss.str(), file.string()));
}

}  // namespace hoprag::tokenizers
