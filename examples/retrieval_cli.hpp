// Shared option handling of hoprag-index and hoprag-retrieve: the encoder and index flags, the
// corpus (chunks or paragraphs of HotpotQA files), and dispatch from the --device / --pooling /
// --storage flags to the policy types (the only place strings select types, at the program's edge).
#pragma once

#include <cstdint>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "hoprag/components/faiss_index.hpp"
#include "hoprag/components/flat_index.hpp"
#include "hoprag/components/hybrid.hpp"
#include "hoprag/data/hotpotqa.hpp"
#include "hoprag/data/passage_unit.hpp"
#include "hoprag/models/bert/encoder.hpp"
#include "device_flag.hpp"
#include "program_main.hpp"

namespace cli {

using program::usage_error;

struct encoder_flags {
    std::string model, pooling = "mean", storage = "f32", device = "auto";
    hoprag::data::passage_unit unit = hoprag::data::passage_unit::chunk;
    hoprag::models::bert::encoder_options options;
    std::size_t limit = 0;  // passages (0 = all)

    /// Consumes argv[i] (and its value) if it is an encoder flag; returns whether it was.
    bool parse(int argc, char** argv, int& i) {
        const std::string a = argv[i];
        const auto value = [&]() -> std::string {
            if (i + 1 >= argc) throw usage_error(a + " needs a value");
            return argv[++i];
        };
        const auto number = [&] { return program::integer_flag(a, value()); };
        if (a == "--model") model = value();
        else if (a == "--pooling") pooling = value();
        else if (a == "--storage") storage = value();
        else if (a == "--device") device = value();
        else if (a == "--max-length") options.max_length = number();
        else if (a == "--batch-tokens") options.max_tokens = number();
        else if (a == "--no-normalize") options.normalize = false;
        else if (a == "--query-prefix") options.query_prefix = value();
        else if (a == "--bge-instruction") options.query_prefix = hoprag::models::bert::bge_query_instruction;
        else if (a == "--limit") limit = static_cast<std::size_t>(number());
        else if (a == "--unit") {
            try {
                unit = hoprag::data::parse_passage_unit(value());
            } catch (const hoprag::config_error& e) {
                throw usage_error(e.what());
            }
        }
        else return false;
        return true;
    }
    void check() const {
        if (model.empty()) throw usage_error("--model DIR is required");
        if (pooling != "mean" && pooling != "cls") throw usage_error("--pooling must be mean or cls, got \"" + pooling + "\"");
        if (storage != "f32" && storage != "bf16") throw usage_error("--storage must be f32 or bf16, got \"" + storage + "\"");
    }
};

/// How the first stage searches (--hops, --seeds, --hybrid, --bm25-weight), shared by
/// hoprag-retrieve and hoprag-pipeline.
struct first_stage_flags {
    std::int64_t hops = 1;
    std::size_t seeds = 5;
    float bm25_weight = 0;

    /// Consumes argv[i] (and its value) if it is a first-stage flag; returns whether it was.
    bool parse(int argc, char** argv, int& i) {
        const std::string a = argv[i];
        const auto value = [&]() -> std::string {
            if (i + 1 >= argc) throw usage_error(a + " needs a value");
            return argv[++i];
        };
        if (a == "--hops") hops = program::integer_flag(a, value());
        else if (a == "--seeds") seeds = program::size_flag(a, value());
        else if (a == "--hybrid") bm25_weight = hoprag::components::hybrid_options{}.bm25_weight;
        else if (a == "--bm25-weight") bm25_weight = program::number_flag<float>(a, value());
        else return false;
        return true;
    }
    /// Throws usage_error for bad values; two hops and BM25 search a passage index (`have_index`).
    void check(bool have_index) const {
        if (hops != 1 && hops != 2) throw usage_error("--hops must be 1 or 2, got " + std::to_string(hops));
        if (!(bm25_weight >= 0)) throw usage_error("--bm25-weight must be >= 0");
        if (!have_index && (hops == 2 || bm25_weight > 0)) throw usage_error("--hops 2 and --bm25-weight need --index");
    }
    /// Seeds of the second hop (0: one hop).
    [[nodiscard]] std::size_t hop_seeds() const { return hops == 2 ? seeds : 0; }
};

/// Index kind and FAISS parameters (--index, --nlist, --nprobe, --hnsw-m, --ef-construction,
/// --ef-search); `set` marks the search parameters given on the command line.
struct index_flags {
    std::string kind = "flat";
    hoprag::components::ivf_flat ivf;
    hoprag::components::hnsw_flat hnsw;
    bool nprobe_set = false, ef_search_set = false;

    bool parse(int argc, char** argv, int& i) {
        const std::string a = argv[i];
        const auto number = [&](bool zero_ok = false) {
            if (i + 1 >= argc) throw usage_error(a + " needs a value");
            return program::integer_flag(a, argv[++i], zero_ok ? 0 : 1);
        };
        if (a == "--index") {
            if (i + 1 >= argc) throw usage_error("--index needs a value");
            kind = argv[++i];
            if (kind != "flat" && kind != "ivf" && kind != "hnsw")
                throw usage_error("--index must be flat, ivf or hnsw, got \"" + kind + "\"");
        } else if (a == "--nlist") ivf.nlist = number(true);
        else if (a == "--nprobe") ivf.nprobe = number(), nprobe_set = true;
        else if (a == "--hnsw-m") hnsw.m = number();
        else if (a == "--ef-construction") hnsw.ef_construction = number();
        else if (a == "--ef-search") hnsw.ef_search = number(), ef_search_set = true;
        else return false;
        return true;
    }
};

inline constexpr const char* index_help = R"(Index kind (FAISS, approximate, for large corpora; inner product on f32 vectors):
  --index flat|ivf|hnsw   exact GEMM search (default), FAISS IVF-Flat or FAISS HNSW-Flat
  --nlist N            IVF lists, trained by k-means on the corpus; default 0 = 4*sqrt(passages)
  --nprobe N           IVF lists searched per question; default 16
  --hnsw-m N           HNSW links per node; default 32
  --ef-construction N  HNSW build beam width; default 80
  --ef-search N        HNSW search beam width (at least --k); default 128
)";

inline constexpr const char* encoder_help = R"(Encoder and index:
  --model DIR          Hugging Face BERT folder: config.json, model.safetensors, tokenizer.json
  --pooling mean|cls   mean of the token states (all-MiniLM) or the [CLS] state (BGE); default mean
  --storage f32|bf16   vector storage of the index; default f32
  --device D           cpu|cuda|auto (auto: cuda when a GPU is present); default auto
  --max-length N       tokens per text, longer ones are truncated; default 256
  --batch-tokens N     padded tokens per encoder batch; default 8192
  --no-normalize       keep raw pooled vectors (default: L2-normalised, score = cosine)
  --query-prefix TEXT  prepended to questions only; --bge-instruction uses BGE's instruction
  --unit chunk|paragraph  corpus passages: 150-250-token chunks with titles, or whole paragraphs; default chunk
  --limit N            use only the first N corpus passages (smoke tests)
)";

/// A retrieval corpus: the pooled corpus and the passages indexed (all of it, or the first --limit).
struct loaded_corpus {
    hoprag::data::corpus corpus;
    std::vector<hoprag::data::passage> passages;
};

/// The pooled corpus of the HotpotQA files in unit `unit` (file and first-seen order), then --limit.
inline loaded_corpus load_corpus(const std::vector<std::string>& files, std::size_t limit, hoprag::data::passage_unit unit,
                                 const char* program) {
    std::vector<hoprag::data::hotpot_record> records;
    for (const auto& f : files) {
        auto part = hoprag::data::load_all(f);
        std::cerr << program << ": " << part.size() << " questions from " << f << "\n";
        for (auto& r : part) records.push_back(std::move(r));
    }
    loaded_corpus out{hoprag::data::unit_corpus(records, unit), {}};
    out.passages = out.corpus.passages();
    if (limit && out.passages.size() > limit) out.passages.resize(limit);
    std::cerr << program << ": corpus of " << out.passages.size() << " passages (" << hoprag::data::unit_name(unit) << "s of "
              << out.corpus.stats().paragraphs << " distinct paragraphs)\n";
    return out;
}

/// Calls f.template operator()<Backend, Pooling, Storage>() for backend `Backend` and the flags'
/// pooling and storage types.
template <class Backend, class F>
decltype(auto) dispatch_types(const encoder_flags& flags, F&& f) {
    namespace bert = hoprag::models::bert;
    namespace comp = hoprag::components;
    if (flags.pooling == "cls")
        return flags.storage == "bf16" ? f.template operator()<Backend, bert::cls_pooling, comp::bf16_storage>()
                                       : f.template operator()<Backend, bert::cls_pooling, comp::f32_storage>();
    return flags.storage == "bf16" ? f.template operator()<Backend, bert::mean_pooling, comp::bf16_storage>()
                                   : f.template operator()<Backend, bert::mean_pooling, comp::f32_storage>();
}

/// dispatch_types with the backend of the --device flag (cpu or cuda: the encoder and the flat
/// index run on either).
template <class F>
int dispatch(const char* program, const encoder_flags& flags, F&& f) {
    return program::run_on_device<true>(program, flags.device, [&]<class Backend>() { return dispatch_types<Backend>(flags, f); });
}

/// A log sink printing plain progress lines to stderr.
inline hoprag::log_sink stderr_sink(const char* program) {
    return [program](hoprag::log_level, std::string_view m) { std::cerr << program << ": " << m << "\n"; };
}

}  // namespace cli
