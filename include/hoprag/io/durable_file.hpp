// Durable file writes (DESIGN rule 8). Every file hoprag writes goes to `NAME.tmp-<pid>` next to
// the target, is written completely, flushed and fsynced, renamed over the target and the folder is
// fsynced, so a kill at any moment leaves either the previous good file or the new complete one.
// `durable_writer` streams bytes and publishes on `commit()`; destroying it without a commit
// removes the temporary file. `write_file_durably` is the one-call form. Failures throw
// `io_error` naming the path and the system's error text. POSIX only.
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
#include <sys/stat.h>
#include <unistd.h>

#include "hoprag/core/error.hpp"

namespace hoprag::io {

namespace detail {

/// "what 'path': strerror(err)"
inline std::string errno_message(std::string_view what, const std::string& path, int err) {
    return std::string(what) + " '" + path + "': " + std::strerror(err);
}

/// fsync the folder holding `path` so a rename inside it is durable.
inline void fsync_parent_dir(const std::filesystem::path& path) {
    std::filesystem::path dir = path.parent_path();
    if (dir.empty()) dir = ".";
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) throw io_error(errno_message("cannot open folder for fsync", dir.string(), errno));
    const int rc = ::fsync(fd);
    const int err = errno;
    ::close(fd);
    // some file systems refuse fsync on folders (EINVAL); the data itself is already synced
    if (rc != 0 && err != EINVAL) throw io_error(errno_message("cannot fsync folder", dir.string(), err));
}

}  // namespace detail

/// Streams bytes into `target.tmp-<pid>`; `commit()` syncs and renames it over `target`.
/// Not copyable; movable. Precondition: the folder of `target` exists and is writable.
/// Postcondition of a destructor without `commit()`: the temporary file is gone, `target` untouched.
class durable_writer {
public:
    /// Creates (truncates) the temporary file. Throws io_error if it cannot be created.
    explicit durable_writer(std::filesystem::path target)
        : target_(std::move(target)), temp_(target_.string() + ".tmp-" + std::to_string(::getpid())) {
        fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd_ < 0) throw io_error(detail::errno_message("cannot create temporary file", temp_.string(), errno));
    }
    durable_writer(const durable_writer&) = delete;
    durable_writer& operator=(const durable_writer&) = delete;
    durable_writer(durable_writer&& o) noexcept
        : target_(std::move(o.target_)), temp_(std::move(o.temp_)), fd_(std::exchange(o.fd_, -1)),
          written_(o.written_), committed_(std::exchange(o.committed_, true)) {}
    durable_writer& operator=(durable_writer&&) = delete;
    ~durable_writer() { abandon(); }

    /// Appends `bytes` (all of them, retrying short writes and EINTR). Throws io_error.
    void write(std::span<const std::byte> bytes) {
        if (fd_ < 0) throw io_error("durable_writer: write to '" + target_.string() + "' after commit or failure");
        const std::byte* p = bytes.data();
        std::size_t left = bytes.size();
        while (left > 0) {
            const ::ssize_t n = ::write(fd_, p, left);
            if (n < 0) {
                if (errno == EINTR) continue;
                const int err = errno;
                abandon();
                throw io_error(detail::errno_message("cannot write", temp_.string(), err));
            }
            p += n;
            left -= static_cast<std::size_t>(n);
            written_ += static_cast<std::uint64_t>(n);
        }
    }
    void write(std::string_view text) { write(std::as_bytes(std::span<const char>(text.data(), text.size()))); }

    /// Bytes written so far.
    std::uint64_t size() const { return written_; }
    /// The file this writer will publish.
    const std::filesystem::path& target() const { return target_; }
    /// The temporary file being written.
    const std::filesystem::path& temp_path() const { return temp_; }

    /// fsyncs and closes the temporary file, renames it over the target and fsyncs the folder.
    /// On failure the temporary file is removed, the target is untouched, and io_error is thrown.
    void commit() {
        if (fd_ < 0) throw io_error("durable_writer: commit of '" + target_.string() + "' after commit or failure");
        if (::fsync(fd_) != 0) {
            const int err = errno;
            abandon();
            throw io_error(detail::errno_message("cannot fsync", temp_.string(), err));
        }
        const int fd = std::exchange(fd_, -1);
        if (::close(fd) != 0) {
            const int err = errno;
            ::unlink(temp_.c_str());
            throw io_error(detail::errno_message("cannot close", temp_.string(), err));
        }
        if (::rename(temp_.c_str(), target_.c_str()) != 0) {
            const int err = errno;
            ::unlink(temp_.c_str());
            throw io_error(detail::errno_message("cannot rename '" + temp_.string() + "' to", target_.string(), err));
        }
        committed_ = true;
        detail::fsync_parent_dir(target_);
    }

private:
    void abandon() noexcept {
        if (fd_ >= 0) {
            ::close(fd_);
            fd_ = -1;
        }
        if (!committed_ && !temp_.empty()) ::unlink(temp_.c_str());
        committed_ = true;  // nothing left to clean up
    }

    std::filesystem::path target_;
    std::filesystem::path temp_;
    int fd_ = -1;
    std::uint64_t written_ = 0;
    bool committed_ = false;
};

/// Writes `bytes` to `path` durably (temp file, fsync, rename, folder fsync). Throws io_error;
/// on failure an existing `path` is left as it was.
inline void write_file_durably(const std::filesystem::path& path, std::span<const std::byte> bytes) {
    durable_writer w(path);
    w.write(bytes);
    w.commit();
}

/// Text form of write_file_durably.
inline void write_file_durably(const std::filesystem::path& path, std::string_view text) {
    write_file_durably(path, std::as_bytes(std::span<const char>(text.data(), text.size())));
}

}  // namespace hoprag::io
