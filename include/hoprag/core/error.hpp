// The hoprag error hierarchy (DESIGN rule 7). Every failure the library reports is a subclass of
// hoprag::error whose message names the file, record or tensor involved and the expected versus
// found value, so a user knows what to fix. Headers never call exit() or abort().
#pragma once

#include <stdexcept>
#include <string>

namespace hoprag {

/// Base of every exception hoprag throws.
class error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A file or record does not follow its format (bad header, truncated data, wrong magic, ...).
class format_error : public error {
public:
    using error::error;
};

/// Tensor shapes or sizes do not agree (a GEMM with mismatched K, a view past its buffer, ...).
class shape_error : public error {
public:
    using error::error;
};

/// A configuration value is invalid or a plan does not fit the chosen profile.
class config_error : public error {
public:
    using error::error;
};

/// A CUDA runtime or library call failed; the message holds the call and the CUDA error string.
class cuda_error : public error {
public:
    using error::error;
};

/// A file could not be opened, read, written, synced or renamed.
class io_error : public error {
public:
    using error::error;
};

}  // namespace hoprag
