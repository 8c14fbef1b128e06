// RAII memory of any backend: `buffer<Context, T>` allocates `count` elements through the backend's
// free functions allocate/deallocate/upload/download (found by argument-dependent lookup on the
// context type), so host code owns CPU and device memory the same way.
#pragma once

#include <cstddef>
#include <utility>
#include <span>
#include <vector>

namespace hoprag {

template <class Context, class T>
class buffer {
public:
    buffer() = default;
    buffer(Context& ctx, std::size_t count) : ctx_(&ctx), count_(count) {
        data_ = static_cast<T*>(allocate(ctx, count * sizeof(T)));
    }
    /// Allocate and copy host data in.
    buffer(Context& ctx, const std::vector<T>& host) : buffer(ctx, std::span<const T>(host)) {}
    buffer(Context& ctx, std::span<const T> host) : buffer(ctx, host.size()) { upload(*ctx_, data_, host.data(), bytes()); }
    buffer(const buffer&) = delete;
    buffer& operator=(const buffer&) = delete;
    buffer(buffer&& o) noexcept { swap(o); }
    buffer& operator=(buffer&& o) noexcept {
        buffer t(std::move(o));
        swap(t);
        return *this;
    }
    ~buffer() {
        if (data_) deallocate(*ctx_, data_);
    }

    T* data() const { return data_; }
    std::size_t size() const { return count_; }
    std::size_t bytes() const { return count_ * sizeof(T); }

    /// Copy the whole buffer to a host vector (synchronises the backend).
    std::vector<T> to_host() const {
        std::vector<T> h(count_);
        download(*ctx_, h.data(), data_, bytes());
        return h;
    }
    /// Overwrite the buffer from host memory of the same size.
    void assign(const std::vector<T>& host) { upload(*ctx_, data_, host.data(), bytes()); }

private:
    void swap(buffer& o) noexcept {
        std::swap(ctx_, o.ctx_);
        std::swap(data_, o.data_);
        std::swap(count_, o.count_);
    }
    Context* ctx_ = nullptr;
    T* data_ = nullptr;
    std::size_t count_ = 0;
};

}  // namespace hoprag
