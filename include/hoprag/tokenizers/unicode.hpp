// Unicode helpers for the tokenizers: strict UTF-8 decoding and encoding, and the character classes
// that Hugging Face tokenizers use (Rust's White_Space, BERT's control / punctuation / CJK tests,
// regex \p{L} and \p{N}), with general categories from utf8proc. Lower-casing and NFD accent
// stripping also go through utf8proc, so the results follow the Unicode tables, not the C locale.
#pragma once

#include <utf8proc.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hoprag/core/error.hpp"

namespace hoprag::tokenizers {

/// Decodes strict UTF-8 into code points. Throws format_error naming the byte offset of the first
/// malformed sequence (overlong forms, surrogates and values past U+10FFFF are malformed).
inline std::u32string utf8_decode(std::string_view s) {
    std::u32string out;
    out.reserve(s.size());
    std::size_t i = 0;
    while (i < s.size()) {
        utf8proc_int32_t cp = 0;
        const auto n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(s.data() + i),
                                        static_cast<utf8proc_ssize_t>(s.size() - i), &cp);
        if (n <= 0 || cp < 0)
            throw format_error("tokenizer input: invalid UTF-8 at byte " + std::to_string(i) + " (expected a valid "
                               "UTF-8 sequence, found byte 0x" + [&] {
                                   const char* hex = "0123456789abcdef";
                                   const auto b = static_cast<unsigned char>(s[i]);
                                   return std::string{hex[b >> 4], hex[b & 15]};
                               }() + ")");
        out.push_back(static_cast<char32_t>(cp));
        i += static_cast<std::size_t>(n);
    }
    return out;
}

/// Appends the UTF-8 encoding of code point `c` (which must be a valid scalar value) to `out`.
inline void utf8_append(std::string& out, char32_t c) {
    if (c < 0x80) {
        out.push_back(static_cast<char>(c));
    } else if (c < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (c >> 6)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else if (c < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (c >> 12)));
        out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (c >> 18)));
        out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
}

inline std::string utf8_encode(std::u32string_view s) {
    std::string out;
    out.reserve(s.size());
    for (const char32_t c : s) utf8_append(out, c);
    return out;
}

/// Unicode general category of `c` (utf8proc's enumeration).
inline utf8proc_category_t category(char32_t c) { return utf8proc_category(static_cast<utf8proc_int32_t>(c)); }

/// Unicode White_Space (what Rust's char::is_whitespace and the regex class \s accept).
inline bool is_whitespace(char32_t c) {
    return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

/// \p{L}: categories Lu, Ll, Lt, Lm, Lo.
inline bool is_letter(char32_t c) {
    const auto k = category(c);
    return k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO;
}

/// \p{N} (and Rust's char::is_numeric): categories Nd, Nl, No.
inline bool is_number(char32_t c) {
    const auto k = category(c);
    return k >= UTF8PROC_CATEGORY_ND && k <= UTF8PROC_CATEGORY_NO;
}

/// BERT's control test: categories Cc, Cf, Cn, Co, Cs, except tab, newline and carriage return.
inline bool is_bert_control(char32_t c) {
    if (c == U'\t' || c == U'\n' || c == U'\r') return false;
    const auto k = category(c);
    return k == UTF8PROC_CATEGORY_CN || k == UTF8PROC_CATEGORY_CC || k == UTF8PROC_CATEGORY_CF ||
           k == UTF8PROC_CATEGORY_CO || k == UTF8PROC_CATEGORY_CS;
}

/// BERT's punctuation test: any ASCII punctuation (33-47, 58-64, 91-96, 123-126) or a P* category.
inline bool is_bert_punctuation(char32_t c) {
    if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) return true;
    const auto k = category(c);
    return k >= UTF8PROC_CATEGORY_PC && k <= UTF8PROC_CATEGORY_PO;
}

/// The CJK Unified Ideograph blocks that BERT surrounds with spaces.
inline bool is_cjk(char32_t c) {
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
           (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

/// Simple lower-case mapping of one code point; U+0130 (İ) maps to "i̇" as Rust's full mapping does.
inline void append_lower(std::u32string& out, char32_t c) {
    if (c == 0x130) {
        out.push_back(U'i');
        out.push_back(0x307);
        return;
    }
    out.push_back(static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c))));
}

/// Canonical decomposition (NFD) of one code point, with combining marks (Mn) dropped: BERT's
/// strip_accents. Hangul syllables decompose to jamo as NFD requires.
inline void append_nfd_without_marks(std::u32string& out, char32_t c) {
    utf8proc_int32_t buf[32];
    int last_class = 0;
    const auto n = utf8proc_decompose_char(static_cast<utf8proc_int32_t>(c), buf, 32, UTF8PROC_DECOMPOSE, &last_class);
    if (n <= 0 || n > 32) {
        if (category(c) != UTF8PROC_CATEGORY_MN) out.push_back(c);
        return;
    }
    for (utf8proc_ssize_t i = 0; i < n; ++i)
        if (category(static_cast<char32_t>(buf[i])) != UTF8PROC_CATEGORY_MN) out.push_back(static_cast<char32_t>(buf[i]));
}

}  // namespace hoprag::tokenizers
