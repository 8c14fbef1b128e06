// hoprag-tokenize: encode lines of UTF-8 text to token ids (or decode id lines back to text) with a
// Hugging Face tokenizer.json — WordPiece (BERT family), byte-level BPE (GPT-2, SmolLM2) or
// SentencePiece-style BPE (Llama, Mistral) — a SentencePiece tokenizer.model (BPE), or the tokenizer
// stored in a GGUF model file. One output line per input line, so it composes with
// other tools; a one-line JSON summary goes to stderr at the end.
#include <charconv>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "hoprag/tokenizers/load_tokenizer.hpp"

namespace {

constexpr const char* usage =
    "usage: hoprag-tokenize --tokenizer PATH [--pair] [--max-length N] [--no-special-tokens] [--decode]\n"
    "\n"
    "Reads UTF-8 lines from stdin and prints one line of space-separated token ids per line.\n"
    "  --tokenizer PATH      a tokenizer.json, a SentencePiece tokenizer.model (BPE), a GGUF model\n"
    "                        file, or a model folder holding one of them\n"
    "  --pair                each line holds two texts separated by a tab (cross-encoder input:\n"
    "                        [CLS] A [SEP] B [SEP], token type ids 0 then 1)\n"
    "  --max-length N        truncate to N ids, special tokens included (pairs: longest_first)\n"
    "  --no-special-tokens   do not add [CLS]/[SEP], <s>, ... around the text\n"
    "  --decode              read lines of ids instead and print their text (special tokens dropped)\n"
    "  --help                this text\n"
    "A summary {\"lines\", \"ids\", \"seconds\"} is printed to stderr at the end.\n";

[[noreturn]] void fail(const std::string& msg) {
    std::cerr << "hoprag-tokenize: " << msg << "\n";
    std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
    std::string path;
    bool pair = false, decode = false, special = true;
    std::size_t max_length = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const auto value = [&]() -> std::string {
            if (i + 1 >= argc) fail("option " + a + " needs a value (see --help)");
            return argv[++i];
        };
        if (a == "--help" || a == "-h") {
            std::cout << usage;
            return 0;
        } else if (a == "--tokenizer") {
            path = value();
        } else if (a == "--pair") {
            pair = true;
        } else if (a == "--decode") {
            decode = true;
        } else if (a == "--no-special-tokens") {
            special = false;
        } else if (a == "--max-length") {
            const std::string v = value();
            const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), max_length);
            if (ec != std::errc{} || p != v.data() + v.size() || max_length == 0)
                fail("--max-length expects a positive integer, found \"" + v + "\"");
        } else {
            fail("unknown option \"" + a + "\" (see --help)");
        }
    }
    if (path.empty()) fail("missing --tokenizer PATH (see --help)");
    if (decode && pair) fail("--decode and --pair cannot be combined");
    const auto t0 = std::chrono::steady_clock::now();
    std::size_t lines = 0, total_ids = 0;
    try {
        const auto tok = hoprag::tokenizers::load_tokenizer(path);
        std::string line, out;
        while (std::getline(std::cin, line)) {
            ++lines;
            if (!line.empty() && line.back() == '\r') line.pop_back();
            try {
                out.clear();
                if (decode) {
                    std::vector<hoprag::tokenizers::token_id> ids;
                    const char* p = line.data();
                    const char* end = p + line.size();
                    while (p < end) {
                        if (*p == ' ' || *p == '\t') {
                            ++p;
                            continue;
                        }
                        hoprag::tokenizers::token_id id = 0;
                        const auto [q, ec] = std::from_chars(p, end, id);
                        if (ec != std::errc{} || (q < end && *q != ' ' && *q != '\t'))
                            throw hoprag::format_error("expected space-separated integer ids, found \"" + line + "\"");
                        ids.push_back(id);
                        p = q;
                    }
                    total_ids += ids.size();
                    out = tok.decode(ids);
                } else {
                    hoprag::tokenizers::encoding e;
                    if (pair) {
                        const auto tab = line.find('\t');
                        if (tab == std::string::npos) throw hoprag::format_error("--pair expects two texts separated by a tab");
                        e = tok.encode_pair(std::string_view(line).substr(0, tab), std::string_view(line).substr(tab + 1), max_length, special);
                    } else {
                        e = tok.encode(line, special, max_length);
                    }
                    total_ids += e.ids.size();
                    for (std::size_t k = 0; k < e.ids.size(); ++k) (k ? out += ' ' : out) += std::to_string(e.ids[k]);
                }
            } catch (const hoprag::error& ex) {
                std::cout.flush();
                fail("stdin line " + std::to_string(lines) + ": " + ex.what());
            }
            out += '\n';
            std::cout << out;
        }
    } catch (const hoprag::error& ex) {
        fail(ex.what());
    }
    std::cout.flush();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cerr << "{\"lines\": " << lines << ", \"ids\": " << total_ids << ", \"seconds\": " << s << "}\n";
    return 0;
}
