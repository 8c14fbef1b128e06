// Read-only memory-mapped files. `mapped_file` maps a whole file with mmap(PROT_READ, MAP_PRIVATE)
// and unmaps it when destroyed; its bytes stay valid for the object's lifetime, so model readers
// hand out zero-copy views into it. A zero-length file maps to an empty span (no mmap call).
// Failures throw `io_error` naming the path and the system's error text. `release_pages` drops the
// resident pages of a view once it has been read. POSIX only.
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

/// Drops the resident pages behind `bytes`, a view into a read-only mapping (madvise
/// MADV_DONTNEED on the pages it touches): the process's memory stops counting them and a later
/// read brings them back from the file. Model loaders call it after reading each tensor, so a
/// multi-gigabyte checkpoint is never resident at once. A no-op for an empty view.
inline void release_pages(std::span<const std::byte> bytes) noexcept {
    if (bytes.empty()) return;
    const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
    const auto first = reinterpret_cast<std::uintptr_t>(bytes.data()) / page * page;
    const auto last = (reinterpret_cast<std::uintptr_t>(bytes.data()) + bytes.size() + page - 1) / page * page;
    ::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
}

}  // namespace hoprag::io
