// WordPiece with the BERT basic tokenizer, as Hugging Face tokenizers runs it for BERT-family models
// (all-MiniLM, BGE): BertNormalizer (clean text, CJK spacing, NFD accent stripping, lower-casing),
// BertPreTokenizer (split on whitespace, isolate punctuation), greedy longest-match-first WordPiece
// with a continuation prefix ("##"), and the WordPiece decoder with its clean-up rules.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "hoprag/tokenizers/unicode.hpp"
#include "hoprag/tokenizers/vocab.hpp"

namespace hoprag::tokenizers {

/// BertNormalizer options (tokenizer.json "normalizer" of type BertNormalizer). strip_accents
/// defaults to `lowercase` when the file leaves it null, as in the reference.
struct bert_normalizer_options {
    bool clean_text = true;            ///< drop U+0000, U+FFFD and control chars; whitespace -> ' '
    bool handle_chinese_chars = true;  ///< surround CJK ideographs with spaces
    bool strip_accents = true;         ///< NFD, then drop non-spacing marks (Mn)
    bool lowercase = true;             ///< Unicode lower-case mapping
};

/// WordPiece model options (tokenizer.json "model" of type WordPiece).
struct wordpiece_options {
    std::string unk_token = "[UNK]";
    std::string continuing_subword_prefix = "##";
    std::size_t max_input_chars_per_word = 100;  ///< longer words become unk_token
};

/// Applies BertNormalizer to `text` (code points) and returns the normalised code points.
inline std::u32string bert_normalize(std::u32string_view text, const bert_normalizer_options& o) {
    std::u32string a;
    a.reserve(text.size() + 8);
    for (const char32_t c : text) {
        if (o.clean_text) {
            if (c == 0 || c == 0xFFFD || is_bert_control(c)) continue;
            if (is_whitespace(c)) {
                a.push_back(U' ');
                continue;
            }
        }
        if (o.handle_chinese_chars && is_cjk(c)) {
            a.push_back(U' ');
            a.push_back(c);
            a.push_back(U' ');
            continue;
        }
        a.push_back(c);
    }
    if (o.strip_accents) {
        std::u32string b;
        b.reserve(a.size());
        for (const char32_t c : a) {
            if (c < 0x80) b.push_back(c);
            else append_nfd_without_marks(b, c);
        }
        a.swap(b);
    }
    if (o.lowercase) {
        std::u32string b;
        b.reserve(a.size());
        for (const char32_t c : a) {
            if (c < 0x80) b.push_back(c >= U'A' && c <= U'Z' ? c + 32 : c);
            else append_lower(b, c);
        }
        a.swap(b);
    }
    return a;
}

/// BertPreTokenizer: calls `word(std::u32string_view)` for every whitespace-separated run, with each
/// punctuation character as a word of its own.
template <class Fn>
void bert_pre_tokenize(std::u32string_view s, Fn&& word) {
    std::size_t start = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char32_t c = s[i];
        if (is_whitespace(c)) {
            if (i > start) word(s.substr(start, i - start));
            start = i + 1;
        } else if (is_bert_punctuation(c)) {
            if (i > start) word(s.substr(start, i - start));
            word(s.substr(i, 1));
            start = i + 1;
        }
    }
    if (s.size() > start) word(s.substr(start));
}

/// Greedy longest-match-first WordPiece over one pre-tokenised word; appends ids to `out`.
/// A word longer than max_input_chars_per_word, or one with a piece not in the vocabulary,
/// becomes the single unk id.
inline void wordpiece_encode_word(std::u32string_view word, const vocabulary& vocab, const wordpiece_options& o,
                                  token_id unk_id, std::vector<token_id>& out) {
    if (word.size() > o.max_input_chars_per_word) {
        out.push_back(unk_id);
        return;
    }
    const std::string utf8 = utf8_encode(word);
    std::vector<std::size_t> bounds;  // byte offset of each code point, plus the end
    bounds.reserve(word.size() + 1);
    for (std::size_t i = 0; i < utf8.size(); ++i)
        if ((static_cast<unsigned char>(utf8[i]) & 0xC0) != 0x80) bounds.push_back(i);
    bounds.push_back(utf8.size());
    const std::size_t mark = out.size();
    std::string key;
    std::size_t start = 0;  // index into bounds
    const std::size_t n = bounds.size() - 1;
    while (start < n) {
        std::size_t end = n;
        bool found = false;
        while (end > start) {
            const std::string_view piece(utf8.data() + bounds[start], bounds[end] - bounds[start]);
            std::optional<token_id> id;
            if (start == 0) {
                id = vocab.find(piece);
            } else {
                key.assign(o.continuing_subword_prefix);
                key.append(piece);
                id = vocab.find(key);
            }
            if (id) {
                out.push_back(*id);
                found = true;
                break;
            }
            --end;
        }
        if (!found) {
            out.resize(mark);
            out.push_back(unk_id);
            return;
        }
        start = end;
    }
}

/// The WordPiece decoder: joins tokens with spaces, glues "##" continuations, then (if `cleanup`)
/// removes the space before . ? ! , and English contractions, token by token as the reference does.
inline std::string wordpiece_decode(const std::vector<std::string>& tokens, const std::string& prefix, bool cleanup) {
    static constexpr std::pair<std::string_view, std::string_view> rules[] = {
        {" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"}, {" n't", "n't"},
        {" 'm", "'m"}, {" do not", " don't"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
    std::string out;
    std::string t;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        t.clear();
        if (i != 0) {
            if (!prefix.empty() && tokens[i].starts_with(prefix)) t.append(tokens[i], prefix.size());
            else (t += ' ') += tokens[i];
        } else {
            t = tokens[i];
        }
        if (cleanup) {
            for (const auto& [from, to] : rules) {
                std::size_t pos = 0;
                while ((pos = t.find(from, pos)) != std::string::npos) {
                    t.replace(pos, from.size(), to);
                    pos += to.size();
                }
            }
        }
        out += t;
    }
    return out;
}

}  // namespace hoprag::tokenizers
