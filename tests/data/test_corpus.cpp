// Chunking and the pooled corpus: hand-made paragraphs with known chunkings (short stays whole,
// balanced splits, long sentences split by tokens), a random property test against a greedy packer
// (fewest chunks, every chunk within the bound, chunk bodies concatenate to the paragraph), and the
// shared HotpotQA samples (counts computed independently in Python, every supporting fact maps to
// exactly one passage holding its sentence, ids unique and findable), also with the real MiniLM and
// SmolLM2 tokenizers as token counters.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "hoprag/data/corpus.hpp"
#include "hoprag/data/hotpotqa.hpp"
#include "hoprag/data/tokenizer_counter.hpp"
#include "hoprag/tokenizers/gguf_tokenizer.hpp"
#include "hoprag/tokenizers/tokenizer_json.hpp"
#include "support/reference.hpp"
#include "tokenizers/golden_support.hpp"

using namespace hoprag;
using namespace hoprag::data;

namespace {

std::string sample(const std::string& name) {
    return test::source_dir() + "/../shared/data/hotpotqa/" + name;
}

/// A sentence of n words "wK" (with HotpotQA's leading space unless first).
std::string words(std::size_t n, bool lead = true, std::size_t from = 0) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) s += (i || lead ? " w" : "w") + std::to_string(from + i);
    return s;
}

std::string join(const std::vector<paragraph_chunk>& cs) {
    std::string s;
    for (const auto& c : cs) s += c.text;
    return s;
}

std::string concat(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += x;
    return s;
}

std::string trim(const std::string& s) {
    const auto b = s.find_first_not_of(" \t\r\n");
    return b == std::string::npos ? "" : s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

}  // namespace

TEST_CASE("chunking: whitespace counter spans", "[data][chunking]") {
    const whitespace_counter wc;
    const auto s = wc.spans("  ab c\t\nd  ");
    REQUIRE(s.size() == 3);
    CHECK((s[0].begin == 2 && s[0].end == 4));
    CHECK((s[1].begin == 5 && s[1].end == 6));
    CHECK((s[2].begin == 8 && s[2].end == 9));
    CHECK(wc.spans("").empty());
    CHECK(wc.spans(" \n ").empty());
}

TEST_CASE("chunking: hand-made paragraphs", "[data][chunking]") {
    const whitespace_counter wc;
    SECTION("a short paragraph stays whole") {
        const std::vector<std::string> sents{words(5, false), words(7), words(3)};
        const auto cs = chunk_paragraph("Some Title", sents, wc);
        REQUIRE(cs.size() == 1);
        CHECK(cs[0].text == concat(sents));
        CHECK(cs[0].tokens == 2 + 15);
        CHECK(cs[0].first_sent == 0);
        CHECK(cs[0].last_sent == 2);
        // exactly at the bound: still whole
        const std::vector<std::string> full{words(100, false), words(148)};
        CHECK(chunk_paragraph("Some Title", full, wc).size() == 1);
        CHECK(chunk_paragraph("Some Title", full, wc)[0].tokens == 250);
    }
    SECTION("a 402-token paragraph splits at sentences into two chunks of 202") {
        std::vector<std::string> sents;
        for (int i = 0; i < 10; ++i) sents.push_back(words(40, i > 0));
        const auto cs = chunk_paragraph("Two Words", sents, wc);
        REQUIRE(cs.size() == 2);
        CHECK(cs[0].tokens == 202);
        CHECK(cs[1].tokens == 202);
        CHECK((cs[0].first_sent == 0 && cs[0].last_sent == 4 && cs[1].first_sent == 5 && cs[1].last_sent == 9));
        CHECK(join(cs) == concat(sents));
    }
    SECTION("261 tokens become two balanced chunks, not 250 + 11") {
        std::vector<std::string> sents;
        for (int i = 0; i < 26; ++i) sents.push_back(words(10, i > 0));
        const auto cs = chunk_paragraph("T", sents, wc);
        REQUIRE(cs.size() == 2);
        CHECK(cs[0].tokens + cs[1].tokens == 262);  // the title is in both
        CHECK(std::min(cs[0].tokens, cs[1].tokens) >= 121);
        CHECK(std::max(cs[0].tokens, cs[1].tokens) <= 141);
    }
    SECTION("a sentence longer than the bound is split by tokens") {
        const std::vector<std::string> sents{words(3, false), words(600), words(4)};
        chunk_options o{20, 100};
        const auto cs = chunk_paragraph("A B", sents, wc, o);
        REQUIRE(cs.size() == 7);  // 607 body tokens, 98 per chunk at most
        for (const auto& c : cs) {
            CHECK(c.tokens <= 100);
            CHECK(c.tokens == 2 + wc.spans(c.text).size());
        }
        CHECK(join(cs) == concat(sents));
        CHECK(cs[0].first_sent == 0);
        CHECK(cs[0].first_sent_starts);
        CHECK(cs[1].first_sent == 1);
        CHECK_FALSE(cs[1].first_sent_starts);
        CHECK(cs[6].last_sent == 2);
    }
    SECTION("empty paragraph, empty sentences, bad options") {
        const auto e = chunk_paragraph("T", {}, wc);
        REQUIRE(e.size() == 1);
        CHECK(e[0].text.empty());
        CHECK(e[0].tokens == 1);
        CHECK(chunk_paragraph("T", {"", " ", ""}, wc).size() == 1);
        CHECK_THROWS_AS(chunk_paragraph("T", {"a"}, wc, chunk_options{10, 5}), config_error);
        CHECK_THROWS_AS(chunk_paragraph("T", {"a"}, wc, chunk_options{0, 0}), config_error);
    }
}

TEST_CASE("chunking: random paragraphs keep every invariant and use the fewest chunks", "[data][chunking]") {
    const whitespace_counter wc;
    const philox_stream rng{1234, 7};
    std::uint64_t draw = 0;
    auto uniform = [&](std::size_t n) { return std::size_t(rng.bits(draw++) % n); };
    for (int trial = 0; trial < 300; ++trial) {
        const std::size_t title_words = 1 + uniform(3);
        const std::string title = words(title_words, false, 1000);
        const std::size_t max = title_words + 1 + uniform(60);
        const std::size_t min = uniform(max + 1);
        std::vector<std::string> sents;
        const std::size_t ns = uniform(12);
        for (std::size_t i = 0; i < ns; ++i)
            sents.push_back(words(uniform(4) == 0 ? uniform(200) : uniform(15), i > 0, 100 * i));
        const auto cs = chunk_paragraph(title, sents, wc, {min, max});
        INFO("trial " << trial << " max " << max << " sentences " << ns);
        REQUIRE(!cs.empty());
        CHECK(join(cs) == concat(sents));
        std::size_t body = 0;
        for (const auto& c : cs) {
            CHECK(c.tokens <= max);
            CHECK(c.tokens == title_words + wc.spans(c.text).size());
            body += c.tokens - title_words;
        }
        CHECK(body == wc.spans(concat(sents)).size());
        // Greedy packing of the same units gives the minimum count for an ordered 1-D packing.
        const std::size_t room = max - title_words;
        std::vector<std::size_t> units;
        for (const auto& s : sents) {
            const std::size_t n = wc.spans(s).size();
            if (n <= room) {
                units.push_back(n);
                continue;
            }
            const std::size_t pieces = (n + room - 1) / room, target = (n + pieces - 1) / pieces;
            std::size_t left = n;
            for (; left > target; left -= target) units.push_back(target);
            units.push_back(left);
        }
        std::size_t greedy = 1, cur = 0;
        for (const auto u : units) {
            if (cur + u > room) ++greedy, cur = 0;
            cur += u;
        }
        CHECK(cs.size() == greedy);
        for (std::size_t i = 1; i < cs.size(); ++i) CHECK(cs[i].first_sent >= cs[i - 1].last_sent);
    }
}

TEST_CASE("corpus: de-duplication by title, conflicts, ids", "[data][corpus]") {
    const whitespace_counter wc;
    hotpot_record a, b;
    a.id = "a";
    a.context = {{"Alpha", {"One.", " Two."}}, {"Beta", {"Three."}}};
    b.id = "b";
    b.context = {{"Beta", {"Three."}}, {"Alpha", {"Different."}}, {"Gamma", {words(300, false)}}};
    const auto c = build_corpus({a, b}, wc);
    const auto& s = c.stats();
    CHECK(s.records == 2);
    CHECK(s.paragraphs_seen == 5);
    CHECK(s.paragraphs == 3);
    CHECK(s.duplicates == 1);
    CHECK(s.title_conflicts == 1);
    CHECK(s.conflict_titles == std::vector<std::string>{"Alpha"});
    CHECK(s.split_paragraphs == 1);
    REQUIRE(c.size() == 4);  // Alpha, Beta, Gamma#0, Gamma#1
    CHECK(passage_id(c[0]) == "Alpha#0");
    CHECK(c[0].text == "One. Two.");  // the first copy is kept
    CHECK(passage_id(c[3]) == "Gamma#1");
    CHECK(c.holds(a.context[0]));
    CHECK_FALSE(c.holds(b.context[1]));
    CHECK(c.find("Gamma#1") == 3u);
    CHECK_FALSE(c.find("Gamma#2"));
    CHECK_FALSE(c.find("Nope#0"));
    CHECK_FALSE(c.find("Gamma"));
    CHECK(c.passage_of("Alpha", 1) == 0u);
    CHECK_FALSE(c.passage_of("Alpha", 2));
    CHECK_FALSE(c.passage_of("Alpha", -1));
    CHECK(c.passages_of("Gamma") == std::pair<std::uint32_t, std::uint32_t>{2, 2});
    a.supporting_facts = {{"Beta", 0}, {"Alpha", 1}, {"Alpha", 0}};
    CHECK(supporting_passages(c, a) == std::vector<std::uint32_t>{0, 1});
    a.supporting_facts.push_back({"Alpha", 5});
    CHECK_THROWS_WITH(supporting_passages(c, a), Catch::Contains("\"a\"") && Catch::Contains("[\"Alpha\", 5]"));
}

TEST_CASE("corpus: the shared samples", "[data][corpus]") {
    const whitespace_counter wc;
    struct expect {
        const char* file;
        std::size_t seen, paragraphs, duplicates, conflicts, split;
    };
    // Counts from tests/golden/corpus_counts.py (Python, independent of this code).
    for (const auto& e : {expect{"hotpot_train_sample.jsonl", 2968, 2960, 8, 0, 46},
                          expect{"hotpot_dev_sample.jsonl", 9362, 9239, 122, 1, 139}}) {
        INFO(e.file);
        const auto records = load_all(sample(e.file));
        const auto c = build_corpus(records, wc);
        const auto& s = c.stats();
        CHECK(s.paragraphs_seen == e.seen);
        CHECK(s.paragraphs == e.paragraphs);
        CHECK(s.duplicates == e.duplicates);
        CHECK(s.title_conflicts == e.conflicts);
        CHECK(s.split_paragraphs == e.split);
        CHECK(c.size() > s.paragraphs);

        std::set<std::string> ids;
        for (std::size_t i = 0; i < c.size(); ++i) {
            const auto& p = c[i];
            REQUIRE(c.tokens(i) <= 250);
            REQUIRE(!p.title.empty());
            REQUIRE(passage_id(p) == p.title + "#" + std::to_string(p.chunk));
            REQUIRE(ids.insert(passage_id(p)).second);
            REQUIRE(c.find(passage_id(p)) == std::uint32_t(i));
            if (c.passages_of(p.title).second > 1) CHECK(c.tokens(i) >= 50);  // split chunks are not slivers
        }

        std::size_t facts = 0, skipped_conflicts = 0;
        for (const auto& r : records) {
            for (const auto& sf : r.supporting_facts) {
                const auto& para = r.context[std::size_t(r.paragraph_index(sf.title))];
                if (!c.holds(para)) {
                    ++skipped_conflicts;
                    continue;
                }
                const auto p = c.passage_of(sf.title, sf.sent_id);
                REQUIRE(p);
                const auto& ps = c[*p];
                const std::string sent = trim(para.sentences[std::size_t(sf.sent_id)]);
                INFO(r.id << " [" << sf.title << ", " << sf.sent_id << "]");
                CHECK(ps.title == sf.title);
                CHECK(ps.text.find(sent) != std::string::npos);
                // exactly one passage of that paragraph holds the sentence
                const auto [first, count] = c.passages_of(sf.title);
                std::size_t holders = 0;
                for (auto i = first; i < first + count; ++i)
                    holders += c[i].first_sent <= sf.sent_id && sf.sent_id <= c[i].last_sent;
                CHECK(holders == 1);
                ++facts;
            }
            if (skipped_conflicts == 0) CHECK(!supporting_passages(c, r).empty());
        }
        CHECK(facts > records.size() * 2);
        CHECK(skipped_conflicts <= 2 * e.conflicts);  // only the conflicting paragraph's facts
    }
}

TEST_CASE("corpus: chunking with the real MiniLM WordPiece and SmolLM2 BPE tokenizers", "[data][corpus][tokenizers]") {
    const auto records = load_all(sample("hotpot_train_sample.jsonl"));
    const auto minilm = tokenizers::load_tokenizer_json(test::model_path("all-minilm-l6-v2"));
    const auto smol =
        tokenizers::load_gguf_tokenizer(test::model_path("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf"));
    auto encoded = [](const tokenizers::tokenizer& t, std::string_view s) {
        std::vector<tokenizers::token_id> ids;
        t.encode_raw(s, ids);
        return ids.size();
    };
    for (const auto* tok : {&minilm, &smol}) {
        const bool wordpiece = tok == &minilm;
        INFO((wordpiece ? "MiniLM WordPiece" : "SmolLM2 byte-level BPE"));
        const tokenizer_counter<tokenizers::tokenizer> counter(*tok);
        // Word-by-word counts add up to the tokenizer's count of the whole sentence.
        std::size_t sentences = 0, exact = 0;
        for (std::size_t r = 0; r < 40; ++r)
            for (const auto& p : records[r].context)
                for (const auto& s : p.sentences) {
                    ++sentences;
                    exact += token_count(counter.spans(s)) == encoded(*tok, s);
                }
        if (wordpiece)
            CHECK(exact == sentences);
        else
            CHECK(double(exact) >= 0.99 * double(sentences));
        // Every passage, re-encoded independently, stays within the bound (BPE: within 2 tokens).
        const auto c = build_corpus(records, counter);
        CHECK(c.stats().paragraphs == 2960);
        std::size_t over = 0;
        for (std::size_t i = 0; i < c.size(); ++i) {
            const auto& p = c[i];
            const std::size_t n = encoded(*tok, p.title) + encoded(*tok, p.text);
            if (wordpiece) CHECK(n == c.tokens(i));
            over += n > 250 + (wordpiece ? 0 : 2);
        }
        CHECK(over == 0);
        CHECK(c.stats().split_paragraphs > 46);  // subword tokens outnumber words
    }
}
