// Byte-pair-encoding model, as Hugging Face tokenizers' BPE: a word starts as one symbol per
// character (a character missing from the vocabulary becomes its UTF-8 bytes as "<0xNN>" tokens
// when byte_fallback is on, else the unk token, consecutive unks fused when fuse_unk is on, or
// nothing when there is no unk token), then
// the pair with the lowest merge rank is merged, leftmost first, until no ranked pair remains.
// Used for byte-level BPE (GPT-2, SmolLM2) and SentencePiece-style BPE (Llama, Mistral).
#pragma once

#include <cstdint>
#include <optional>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "hoprag/core/error.hpp"
#include "hoprag/tokenizers/vocab.hpp"

namespace hoprag::tokenizers {

/// BPE model options (tokenizer.json "model" of type BPE).
struct bpe_options {
    std::optional<std::string> unk_token;  ///< none for byte-level BPE
    bool fuse_unk = false;                 ///< merge consecutive unk symbols into one
    bool byte_fallback = false;            ///< unknown characters -> "<0xNN>" byte tokens
};

/// A merge rule "left right", in rank order (rank = position in the list).
using merge_rule = std::pair<std::string, std::string>;

class bpe_model {
public:
    bpe_model() = default;

    /// `merges` in rank order; every merge's parts and result must be in `vocab`, else format_error
    /// naming `source` and the merge. `ranks`, when not empty, gives each merge's rank instead of its
    /// position (one per merge; equal ranks allowed: the leftmost pair merges first), as SentencePiece
    /// BPE ranks merges by the score of the merged piece.
    bpe_model(const vocabulary& vocab, const std::vector<merge_rule>& merges, bpe_options opts,
              const std::string& source = "BPE model", const std::vector<std::int32_t>& ranks = {})
        : opts_(std::move(opts)) {
        if (!ranks.empty() && ranks.size() != merges.size())
            throw format_error(source + ": " + std::to_string(ranks.size()) + " merge ranks for " + std::to_string(merges.size()) + " merges");
        ranks_.reserve(merges.size());
        for (std::size_t r = 0; r < merges.size(); ++r) {
            const auto& [a, b] = merges[r];
            const auto ia = vocab.find(a), ib = vocab.find(b), ic = vocab.find(a + b);
            if (!ia || !ib || !ic)
                throw format_error(source + ": merge " + std::to_string(r) + " \"" + a + " " + b + "\" uses a token " +
                                   "missing from the vocabulary (\"" + (!ia ? a : !ib ? b : a + b) + "\")");
            ranks_.insert_or_assign(key(*ia, *ib), merge_value{ranks.empty() ? static_cast<std::int32_t>(r) : ranks[r], *ic});  // a repeated merge: last wins, as in the reference
        }
        if (opts_.unk_token) {
            const auto u = vocab.find(*opts_.unk_token);
            if (!u) throw format_error(source + ": unk_token \"" + *opts_.unk_token + "\" is not in the vocabulary");
            unk_id_ = *u;
        }
        if (opts_.byte_fallback) {
            static constexpr char hex[] = "0123456789ABCDEF";
            for (int b = 0; b < 256; ++b) {
                const std::string t{'<', '0', 'x', hex[b >> 4], hex[b & 15], '>'};
                byte_ids_[b] = vocab.find(t).value_or(-1);
            }
        }
    }

    /// Encodes one pre-tokenised word (UTF-8) and appends its ids to `out`.
    void encode_word(std::string_view word, const vocabulary& vocab, std::vector<token_id>& out) const {
        std::vector<token_id> symbols;
        symbols.reserve(word.size());
        bool last_unk = false;
        std::size_t i = 0;
        while (i < word.size()) {
            std::size_t len = 1;
            const auto lead = static_cast<unsigned char>(word[i]);
            if (lead >= 0xF0) len = 4;
            else if (lead >= 0xE0) len = 3;
            else if (lead >= 0xC0) len = 2;
            if (i + len > word.size()) len = word.size() - i;
            const std::string_view ch = word.substr(i, len);
            i += len;
            if (const auto id = vocab.find(ch)) {
                symbols.push_back(*id);
                last_unk = false;
                continue;
            }
            if (opts_.byte_fallback) {
                bool all = true;
                for (const char c : ch) all = all && byte_ids_[static_cast<unsigned char>(c)] >= 0;
                if (all) {
                    for (const char c : ch) symbols.push_back(byte_ids_[static_cast<unsigned char>(c)]);
                    last_unk = false;
                    continue;
                }
            }
            if (unk_id_ < 0) continue;  // no unk token: the reference drops the character
            if (!(opts_.fuse_unk && last_unk)) symbols.push_back(unk_id_);
            last_unk = true;
        }
        merge(symbols);
        out.insert(out.end(), symbols.begin(), symbols.end());
    }

    /// Applies the merges to a word given as its initial symbol ids (replaced by the merged ids).
    void merge(std::vector<token_id>& ids) const {
        const std::size_t n = ids.size();
        if (n < 2) return;
        if (n <= 8) {  // short words: plain scans beat a heap
            merge_small(ids);
            return;
        }
        struct symbol {
            token_id id;
            std::int32_t prev, next;
            bool alive;
        };
        struct item {
            std::int32_t rank, pos;
            token_id new_id;
            bool operator<(const item& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
        };
        std::vector<symbol> s(n);
        for (std::size_t k = 0; k < n; ++k)
            s[k] = {ids[k], static_cast<std::int32_t>(k) - 1, k + 1 < n ? static_cast<std::int32_t>(k + 1) : -1, true};
        std::vector<item> heap_storage;
        heap_storage.reserve(n);
        std::priority_queue<item> q(std::less<item>{}, std::move(heap_storage));
        for (std::size_t k = 0; k + 1 < n; ++k)
            if (const auto* m = find(ids[k], ids[k + 1])) q.push({m->rank, static_cast<std::int32_t>(k), m->new_id});
        while (!q.empty()) {
            const item top = q.top();
            q.pop();
            symbol& cur = s[static_cast<std::size_t>(top.pos)];
            if (!cur.alive || cur.next < 0) continue;
            symbol& right = s[static_cast<std::size_t>(cur.next)];
            const auto* m = find(cur.id, right.id);
            if (!m || m->new_id != top.new_id) continue;
            cur.id = top.new_id;
            right.alive = false;
            cur.next = right.next;
            if (right.next >= 0) s[static_cast<std::size_t>(right.next)].prev = top.pos;
            if (cur.prev >= 0)
                if (const auto* p = find(s[static_cast<std::size_t>(cur.prev)].id, cur.id)) q.push({p->rank, cur.prev, p->new_id});
            if (cur.next >= 0)
                if (const auto* p = find(cur.id, s[static_cast<std::size_t>(cur.next)].id)) q.push({p->rank, top.pos, p->new_id});
        }
        ids.clear();
        for (std::size_t k = 0; k < n; ++k)
            if (s[k].alive) ids.push_back(s[k].id);
    }

    const bpe_options& options() const { return opts_; }

private:
    struct merge_value {
        std::int32_t rank;
        token_id new_id;
    };
    static std::uint64_t key(token_id a, token_id b) {
        return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(a)) << 32) | static_cast<std::uint32_t>(b);
    }
    const merge_value* find(token_id a, token_id b) const {
        const auto it = ranks_.find(key(a, b));
        return it == ranks_.end() ? nullptr : &it->second;
    }
    // Same result as the heap: repeatedly merge the lowest-ranked pair, leftmost among equals.
    void merge_small(std::vector<token_id>& ids) const {
        while (ids.size() > 1) {
            std::int32_t best = -1;
            std::size_t at = 0;
            token_id new_id = 0;
            for (std::size_t k = 0; k + 1 < ids.size(); ++k)
                if (const auto* m = find(ids[k], ids[k + 1]); m && (best < 0 || m->rank < best)) {
                    best = m->rank;
                    at = k;
                    new_id = m->new_id;
                }
            if (best < 0) return;
            ids[at] = new_id;
            ids.erase(ids.begin() + static_cast<std::ptrdiff_t>(at) + 1);
        }
    }

    bpe_options opts_;
    std::unordered_map<std::uint64_t, merge_value> ranks_;
    token_id unk_id_ = -1;
    token_id byte_ids_[256] = {};
};

}  // namespace hoprag::tokenizers
