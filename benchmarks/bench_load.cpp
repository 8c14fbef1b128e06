// hoprag-bench-load: peak host memory and time of loading a checkpoint into the CPU backend
// (benchmarks/load_report.hpp). Example:
//   python3 benchmarks/make_llama_checkpoint.py --out /tmp/mistral7b   (14.5 GB of random bf16)
//   hoprag-bench-load --model /tmp/mistral7b --quant nf4
#include "hoprag/cpu/backend.hpp"
#include "load_report.hpp"

int main(int argc, char** argv) { return hoprag::bench::load_main<hoprag::cpu::backend>(argc, argv, "cpu"); }
