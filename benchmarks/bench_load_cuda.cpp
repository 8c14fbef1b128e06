// hoprag-bench-load-cuda: peak host memory, device allocator high-water mark and time of loading
// a checkpoint into the CUDA backend (benchmarks/load_report.hpp); the device never holds the f32
// block linears. Example: hoprag-bench-load-cuda --model /tmp/mistral7b --profile t4
#include "hoprag/cuda/backend.hpp"
#include "load_report.hpp"

int main(int argc, char** argv) { return hoprag::bench::load_main<hoprag::cuda::backend>(argc, argv, "h100"); }
