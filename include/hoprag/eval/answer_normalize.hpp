// Answer normalisation of the official HotpotQA evaluation (hotpot_evaluate_v1.py, itself SQuAD's):
// lower-case, delete ASCII punctuation (Python's string.punctuation), replace the whole words
// "a", "an", "the" by a space, then split on whitespace and join with single spaces. It is
// reimplemented here with Python 3's Unicode semantics so the numbers match the official script:
// str.lower() (utf8proc's simple lower-case mapping, plus U+0130 -> "i" U+0307 and the final-sigma
// rule), `\b` word boundaries where a word character is a Unicode letter or number or '_', and
// str.split()'s Unicode whitespace. Inputs are UTF-8 (JSON parsers guarantee it); an invalid byte is read as the
// Latin-1 character of the same value.
#pragma once

#include <utf8proc.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hoprag::eval {

namespace detail {

/// Code points of a UTF-8 string; an invalid byte becomes the code point of its value.
inline std::vector<std::int32_t> decode_utf8(std::string_view s) {
    std::vector<std::int32_t> out;
    out.reserve(s.size());
    const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(s.data());
    utf8proc_ssize_t left = static_cast<utf8proc_ssize_t>(s.size());
    while (left > 0) {
        utf8proc_int32_t cp = 0;
        utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
        if (n <= 0) {
            cp = *p;
            n = 1;
        }
        out.push_back(cp);
        p += n;
        left -= n;
    }
    return out;
}

inline void encode_utf8(std::int32_t cp, std::string& out) {
    utf8proc_uint8_t buf[4];
    const auto n = utf8proc_encode_char(cp, buf);
    out.append(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(n));
}

/// Python's str.isspace() (bidirectional class WS, B, S or category Zs).
inline bool is_space(std::int32_t c) {
    if (c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F) || c == 0x85 || c == 0xA0) return true;
    if (c < 0x1680) return false;
    return c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
           c == 0x3000;
}

/// Python's `\w` on str patterns: str.isalnum() or '_'.
inline bool is_word(std::int32_t c) {
    if (c < 0x80) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    switch (utf8proc_category(c)) {
        case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT: case UTF8PROC_CATEGORY_LM:
        case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
            return true;
        default: return false;
    }
}

inline bool is_cased(std::int32_t c) {
    const auto k = utf8proc_category(c);
    return k == UTF8PROC_CATEGORY_LU || k == UTF8PROC_CATEGORY_LL || k == UTF8PROC_CATEGORY_LT;
}

inline bool is_case_ignorable(std::int32_t c) {
    if (c == '\'' || c == '.' || c == ':' || c == 0xB7 || c == 0x2019) return true;
    const auto k = utf8proc_category(c);
    return k == UTF8PROC_CATEGORY_MN || k == UTF8PROC_CATEGORY_ME || k == UTF8PROC_CATEGORY_CF ||
           k == UTF8PROC_CATEGORY_LM || k == UTF8PROC_CATEGORY_SK;
}

/// Python's str.lower() on code points.
inline std::vector<std::int32_t> lower(const std::vector<std::int32_t>& in) {
    std::vector<std::int32_t> out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        const std::int32_t c = in[i];
        if (c < 0x80) {
            out.push_back(c >= 'A' && c <= 'Z' ? c + 32 : c);
        } else if (c == 0x130) {  // LATIN CAPITAL LETTER I WITH DOT ABOVE: full mapping
            out.push_back('i');
            out.push_back(0x307);
        } else if (c == 0x3A3) {  // GREEK CAPITAL SIGMA: final form after a cased letter, before none
            std::size_t j = i;
            while (j > 0 && is_case_ignorable(in[j - 1])) --j;
            const bool after_cased = j > 0 && is_cased(in[j - 1]);
            std::size_t k = i + 1;
            while (k < in.size() && is_case_ignorable(in[k])) ++k;
            const bool before_cased = k < in.size() && is_cased(in[k]);
            out.push_back(after_cased && !before_cased ? 0x3C2 : 0x3C3);
        } else {
            out.push_back(utf8proc_tolower(c));
        }
    }
    return out;
}

/// Python's string.punctuation.
inline bool is_ascii_punct(std::int32_t c) {
    return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) || (c >= 0x7B && c <= 0x7E);
}

}  // namespace detail

/// The official normalize_answer(s): lower, remove punctuation, remove articles, fix whitespace.
[[nodiscard]] inline std::string normalize_answer(std::string_view s) {
    using namespace detail;
    // lower, then drop ASCII punctuation
    std::vector<std::int32_t> t;
    for (const std::int32_t c : lower(decode_utf8(s)))
        if (!is_ascii_punct(c)) t.push_back(c);
    // \b(a|an|the)\b -> ' ': a match is exactly a maximal run of word characters equal to an article
    std::vector<std::int32_t> u;
    u.reserve(t.size());
    for (std::size_t i = 0; i < t.size();) {
        if (!is_word(t[i])) {
            u.push_back(t[i++]);
            continue;
        }
        std::size_t j = i;
        while (j < t.size() && is_word(t[j])) ++j;
        const std::size_t n = j - i;
        const bool article = (n == 1 && t[i] == 'a') || (n == 2 && t[i] == 'a' && t[i + 1] == 'n') ||
                             (n == 3 && t[i] == 't' && t[i + 1] == 'h' && t[i + 2] == 'e');
        if (article) u.push_back(' ');
        else u.insert(u.end(), t.begin() + static_cast<std::ptrdiff_t>(i), t.begin() + static_cast<std::ptrdiff_t>(j));
        i = j;
    }
    // ' '.join(text.split())
    std::string out;
    out.reserve(s.size());
    bool pending_space = false;
    for (const std::int32_t c : u) {
        if (is_space(c)) {
            pending_space = !out.empty();
            continue;
        }
        if (pending_space) out.push_back(' ');
        pending_space = false;
        encode_utf8(c, out);
    }
    return out;
}

/// The whitespace tokens of a normalised answer (str.split()); `normalized` has single spaces.
[[nodiscard]] inline std::vector<std::string_view> answer_tokens(std::string_view normalized) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < normalized.size()) {
        const std::size_t j = normalized.find(' ', i);
        const std::size_t e = j == std::string_view::npos ? normalized.size() : j;
        if (e > i) out.push_back(normalized.substr(i, e - i));
        i = e + 1;
    }
    return out;
}

}  // namespace hoprag::eval
