// hoprag-index: builds a dense flat index of the distinct paragraphs of HotpotQA files with a BERT
// bi-encoder on the CPU and saves it durably. Progress on stderr; a JSON summary as the last line
// of stdout.
#include <chrono>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hoprag/components/retriever.hpp"
#include "hoprag/cpu/backend.hpp"
#include "retrieval_cli.hpp"

namespace {

constexpr const char* usage = R"(usage: hoprag-index --model DIR --out INDEX [options] HOTPOT_FILE...

Encodes every distinct paragraph ("title. sentences") of the HotpotQA files (JSON array or JSON
Lines), pooled in file order, and writes an exact inner-product index to INDEX. The index header
records the model, dimension, pooling, normalisation and a hash of the corpus; hoprag-retrieve
refuses an index that does not match its flags and corpus.

  --out INDEX          index file to write (temporary file, fsync, rename)
)";

}  // namespace

int main(int argc, char** argv) {
    const char* prog = "hoprag-index";
    try {
        cli::encoder_flags flags;
        std::string out;
        std::vector<std::string> files;
        for (int i = 1; i < argc; ++i) {
            const std::string a = argv[i];
            if (a == "--help" || a == "-h") {
                std::cout << usage << cli::encoder_help << "\nExit status: 0 on success, 1 on bad input, 2 on bad usage.\n";
                return 0;
            }
            if (flags.parse(argc, argv, i)) continue;
            if (a == "--out") {
                if (i + 1 >= argc) throw cli::usage_error("--out needs a value");
                out = argv[++i];
            } else if (a.size() > 1 && a[0] == '-') throw cli::usage_error("unknown option " + a);
            else files.push_back(a);
        }
        flags.check();
        if (out.empty()) throw cli::usage_error("--out INDEX is required");
        if (files.empty()) throw cli::usage_error("give at least one HotpotQA file");
        try {
            const auto passages = cli::load_corpus(files, flags.limit, prog);
            return cli::dispatch(flags, [&]<class Pooling, class Storage>() {
                namespace bert = hoprag::models::bert;
                namespace comp = hoprag::components;
                hoprag::cpu::context ctx(0, cli::stderr_sink(prog));
                bert::encoder<hoprag::cpu::context, Pooling> enc(ctx, flags.model, flags.options);
                using retriever = comp::retriever<decltype(enc), comp::flat_index<hoprag::cpu::context, Storage>>;
                comp::flat_index<hoprag::cpu::context, Storage> index(ctx, retriever::header_for(enc, passages));
                retriever r(enc, index, ctx);
                const auto t0 = std::chrono::steady_clock::now();
                const double rate = r.add_passages(passages, 1024);
                index.save(out);
                const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
                nlohmann::ordered_json j;
                j["index"] = out;
                j["passages"] = index.size();
                j["dimension"] = index.dimension();
                j["model"] = index.header().model;
                j["pooling"] = index.header().pooling;
                j["normalized"] = index.header().normalized;
                j["storage"] = std::string(Storage::name);
                j["corpus_hash"] = index.header().corpus_hash;
                j["seconds"] = secs;
                j["passages_per_s"] = rate;
                std::cout << j.dump() << std::endl;
                return 0;
            });
        } catch (const std::exception& e) {
            std::cerr << prog << ": " << cli::one_line(e.what()) << "\n";
            return 1;
        }
    } catch (const cli::usage_error& e) {
        std::cerr << prog << ": " << e.what() << " (see --help)\n";
        return 2;
    }
}
