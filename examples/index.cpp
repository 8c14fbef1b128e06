// hoprag-index: builds a dense index (exact flat, or FAISS IVF / HNSW) of the passages (chunks or
// whole paragraphs, --unit) of HotpotQA files with a BERT bi-encoder on the CPU and saves it durably. Progress on stderr; a JSON summary as the last line
// of stdout.
#include <chrono>
#include <type_traits>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hoprag/components/retriever.hpp"
#include "retrieval_cli.hpp"

namespace {

constexpr const char* usage = R"(usage: hoprag-index --model DIR --out INDEX [options] HOTPOT_FILE...

Encodes every passage ("title. text") of the HotpotQA files (JSON array or JSON Lines): the
distinct paragraphs pooled in file order, cut into 150-250-token chunks with their titles
(--unit chunk, the default) or kept whole (--unit paragraph), and writes an inner-product index to INDEX: exact (flat) or
approximate (FAISS IVF-Flat or HNSW-Flat, see --index). The index header
records the model, dimension, pooling, normalisation and a hash of the corpus; hoprag-retrieve
refuses an index that does not match its flags and corpus.

  --out INDEX          index file to write (temporary file, fsync, rename)
  --print-header       only print the header INDEX would get (JSON: model, dimension, pooling,
                       normalized, corpus_hash) and exit; no encoding, --out not needed
)";

}  // namespace

int main(int argc, char** argv) {
    const char* prog = "hoprag-index";
    return program::guarded_main(prog, usage, [&]() -> int {
        cli::encoder_flags flags;
        cli::index_flags iflags;
        std::string out;
        bool print_header = false;
        std::vector<std::string> files;
        for (int i = 1; i < argc; ++i) {
            const std::string a = argv[i];
            if (a == "--help" || a == "-h") {
                std::cout << usage << cli::encoder_help << cli::index_help << "\nExit status: 0 on success, 1 on bad input, 2 on bad usage.\n";
                return 0;
            }
            if (flags.parse(argc, argv, i) || iflags.parse(argc, argv, i)) continue;
            if (a == "--print-header") print_header = true;
            else if (a == "--out") {
                if (i + 1 >= argc) throw cli::usage_error("--out needs a value");
                out = argv[++i];
            } else if (a.size() > 1 && a[0] == '-') throw cli::usage_error("unknown option " + a);
            else files.push_back(a);
        }
        flags.check();
        if (out.empty() && !print_header) throw cli::usage_error("--out INDEX is required");
        if (files.empty()) throw cli::usage_error("give at least one HotpotQA file");
        const auto passages = cli::load_corpus(files, flags.limit, flags.unit, prog).passages;
        return cli::dispatch(prog, flags, [&]<class Backend, class Pooling, class Storage>() {
            using context = typename Backend::context;
            namespace bert = hoprag::models::bert;
            namespace comp = hoprag::components;
            context ctx(0, cli::stderr_sink(prog));
            bert::encoder<context, Pooling> enc(ctx, flags.model, flags.options);
            const auto build = [&](auto& index) {
                using retriever = comp::retriever<decltype(enc), std::remove_reference_t<decltype(index)>>;
                retriever r(enc, index, ctx);
                const auto t0 = std::chrono::steady_clock::now();
                const double rate = r.add_passages(passages, 1024);
                const auto t1 = std::chrono::steady_clock::now();
                index.save(out);
                nlohmann::ordered_json j;
                j["index"] = out;
                j["passages"] = index.size();
                j["dimension"] = index.dimension();
                j["model"] = index.header().model;
                j["pooling"] = index.header().pooling;
                j["normalized"] = index.header().normalized;
                j["corpus_hash"] = index.header().corpus_hash;
                j["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
                j["encode_seconds"] = std::chrono::duration<double>(t1 - t0).count();
                j["passages_per_s"] = rate;
                return j;
            };
            const auto header = comp::retriever<decltype(enc), comp::flat_index<context, Storage>>::header_for(enc, passages);
            nlohmann::ordered_json j;
            if (print_header) {
                j["model"] = header.model;
                j["dimension"] = header.dimension;
                j["pooling"] = header.pooling;
                j["normalized"] = header.normalized;
                j["corpus_hash"] = header.corpus_hash;
                j["passages"] = passages.size();
            } else if (iflags.kind == "ivf") {
                comp::faiss_index<comp::ivf_flat> index(header, iflags.ivf);
                j = build(index);
                j["kind"] = "ivf";
                j["nlist"] = index.kind().nlist;
                j["nprobe"] = index.kind().nprobe;
            } else if (iflags.kind == "hnsw") {
                comp::faiss_index<comp::hnsw_flat> index(header, iflags.hnsw);
                j = build(index);
                j["kind"] = "hnsw";
                j["hnsw_m"] = index.kind().m;
                j["ef_construction"] = index.kind().ef_construction;
                j["ef_search"] = index.kind().ef_search;
            } else {
                comp::flat_index<context, Storage> index(ctx, header);
                j = build(index);
                j["kind"] = "flat";
                j["storage"] = std::string(Storage::name);
            }
            std::cout << j.dump() << std::endl;
            return 0;
        });
    });
}
