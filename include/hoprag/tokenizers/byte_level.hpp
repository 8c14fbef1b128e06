// Byte-level pieces of GPT-2-style BPE (GPT-2, SmolLM2, Llama 3): the byte <-> printable-character
// map, the GPT-2 pre-tokeniser regex
//     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// written out by hand over code points (no regex library), the "individual digits" splitter, and
// the byte-level decoder with the reference's lossy UTF-8 conversion (one U+FFFD per maximal
// invalid subsequence).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "hoprag/tokenizers/unicode.hpp"

namespace hoprag::tokenizers {

/// GPT-2's byte -> character map: printable Latin-1 bytes map to themselves, the other 68 bytes to
/// U+0100.. in byte order.
inline std::array<char32_t, 256> bytes_to_unicode() {
    std::array<char32_t, 256> m{};
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
        const bool keep = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
        m[static_cast<std::size_t>(b)] = keep ? static_cast<char32_t>(b) : next++;
    }
    return m;
}

/// Splits `s` into GPT-2 pre-tokens, calling `piece(std::size_t begin, std::size_t end)` with code
/// point offsets in order. Every code point ends up in exactly one piece.
template <class Fn>
void gpt2_split(std::u32string_view s, Fn&& piece) {
    const std::size_t n = s.size();
    std::size_t i = 0;
    while (i < n) {
        const char32_t c = s[i];
        // 's 't 're 've 'm 'll 'd (case-sensitive)
        if (c == U'\'' && i + 1 < n) {
            const char32_t d = s[i + 1];
            if (d == U's' || d == U't' || d == U'm' || d == U'd') {
                piece(i, i + 2);
                i += 2;
                continue;
            }
            if (i + 2 < n && ((d == U'r' && s[i + 2] == U'e') || (d == U'v' && s[i + 2] == U'e') ||
                              (d == U'l' && s[i + 2] == U'l'))) {
                piece(i, i + 3);
                i += 3;
                continue;
            }
        }
        // ' ?\p{L}+' | ' ?\p{N}+' | ' ?[^\s\p{L}\p{N}]+'
        const std::size_t j = (c == U' ' && i + 1 < n) ? i + 1 : i;
        const char32_t e = s[j];
        if (!(j == i && is_whitespace(e))) {
            if (is_letter(e)) {
                std::size_t k = j + 1;
                while (k < n && is_letter(s[k])) ++k;
                piece(i, k);
                i = k;
                continue;
            }
            if (is_number(e)) {
                std::size_t k = j + 1;
                while (k < n && is_number(s[k])) ++k;
                piece(i, k);
                i = k;
                continue;
            }
            if (!is_whitespace(e)) {
                std::size_t k = j + 1;
                while (k < n && !is_whitespace(s[k]) && !is_letter(s[k]) && !is_number(s[k])) ++k;
                piece(i, k);
                i = k;
                continue;
            }
        }
        // '\s+(?!\S)' then '\s+'
        std::size_t k = i + 1;
        while (k < n && is_whitespace(s[k])) ++k;
        if (k < n && k - i > 1) --k;  // leave the last space to prefix the next word
        piece(i, k);
        i = k;
    }
}

/// Digits pre-tokeniser with individual_digits: every \p{N} code point is a piece of its own.
template <class Fn>
void split_digits(std::u32string_view s, Fn&& piece) {
    std::size_t start = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (is_number(s[i])) {
            if (i > start) piece(start, i);
            piece(i, i + 1);
            start = i + 1;
        }
    }
    if (s.size() > start) piece(start, s.size());
}

/// Converts bytes to UTF-8 text, replacing each maximal invalid subsequence with U+FFFD (the
/// WHATWG / Rust from_utf8_lossy rule).
inline std::string utf8_lossy(std::string_view b) {
    std::string out;
    out.reserve(b.size());
    std::size_t i = 0;
    const auto at = [&](std::size_t k) { return static_cast<unsigned char>(b[k]); };
    while (i < b.size()) {
        const unsigned char c = at(i);
        if (c < 0x80) {
            out.push_back(static_cast<char>(c));
            ++i;
            continue;
        }
        std::size_t need = 0;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) need = 1;
        else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            if (c == 0xE0) lo = 0xA0;
            if (c == 0xED) hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            if (c == 0xF0) lo = 0x90;
            if (c == 0xF4) hi = 0x8F;
        }
        std::size_t k = i + 1;
        bool ok = need > 0;
        for (std::size_t m = 0; ok && m < need; ++m, ++k) {
            if (k >= b.size() || at(k) < (m == 0 ? lo : 0x80) || at(k) > (m == 0 ? hi : 0xBF)) ok = false;
            if (!ok) break;
        }
        if (ok) {
            out.append(b.substr(i, k - i));
        } else {
            out += "\xEF\xBF\xBD";
        }
        i = ok ? k : std::max(k, i + 1);
    }
    return out;
}

}  // namespace hoprag::tokenizers
