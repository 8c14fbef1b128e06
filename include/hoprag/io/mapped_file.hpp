// Read-only memory-mapped files. `mapped_file` maps a whole file with mmap(PROT_READ, MAP_PRIVATE)
// and unmaps it when destroyed; its bytes stay valid for the object's lifetime, so model readers
// hand out zero-copy views into it. A zero-length file maps to an empty span (no mmap call).
// Failures throw `io_error` naming the path and the system's error text. POSIX only.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hoprag/core/error.hpp"

namespace hoprag::io {

/// A read-only mapping of one whole file. Movable, not copyable.
class mapped_file {
public:
    mapped_file() = default;

    /// Maps `path`. Throws io_error if it cannot be opened, is not a regular file, or mmap fails.
    explicit mapped_file(std::filesystem::path path) : path_(std::move(path)) {
        const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) throw io_error(message("cannot open", errno));
        struct ::stat st {};
        if (::fstat(fd, &st) != 0) {
            const int err = errno;
            ::close(fd);
            throw io_error(message("cannot stat", err));
        }
        if (!S_ISREG(st.st_mode)) {
            ::close(fd);
            throw io_error("cannot map '" + path_.string() + "': not a regular file");
        }
        size_ = static_cast<std::size_t>(st.st_size);
        if (size_ > 0) {
            void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
            if (p == MAP_FAILED) {
                const int err = errno;
                ::close(fd);
                throw io_error(message("cannot mmap", err));
            }
            data_ = static_cast<const std::byte*>(p);
        }
        ::close(fd);  // the mapping keeps the file alive
    }
    mapped_file(const mapped_file&) = delete;
    mapped_file& operator=(const mapped_file&) = delete;
    mapped_file(mapped_file&& o) noexcept
        : path_(std::move(o.path_)), data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
    mapped_file& operator=(mapped_file&& o) noexcept {
        if (this != &o) {
            unmap();
            path_ = std::move(o.path_);
            data_ = std::exchange(o.data_, nullptr);
            size_ = std::exchange(o.size_, 0);
        }
        return *this;
    }
    ~mapped_file() { unmap(); }

    /// The file's bytes (empty for a zero-length file). Valid while this object lives.
    std::span<const std::byte> bytes() const { return {data_, size_}; }
    const std::byte* data() const { return data_; }
    std::size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    /// The path given at construction.
    const std::filesystem::path& path() const { return path_; }

private:
    std::string message(std::string_view what, int err) const {
        return std::string(what) + " '" + path_.string() + "': " + std::strerror(err);
    }
    void unmap() noexcept {
        if (data_ != nullptr) ::munmap(const_cast<std::byte*>(data_), size_);
        data_ = nullptr;
        size_ = 0;
    }

    std::filesystem::path path_;
    const std::byte* data_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace hoprag::io
