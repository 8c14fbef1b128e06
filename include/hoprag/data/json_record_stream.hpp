// Streaming reader of the top-level objects of a JSON file, in either of the two layouts datasets
// ship in: one JSON array of objects (`[{...}, {...}]`, e.g. hotpot_train_v1.1.json, 540 MB) or
// JSON Lines (one object per line; any whitespace between objects is accepted). It reads through a
// fixed-size buffer and finds where each object ends by tracking strings, escapes and bracket
// depth, so memory stays at one buffer plus the largest record whatever the file size. It does not
// parse the objects: each comes back as text (with simdjson padding reserved) for a real parser.
// Structural problems (not an array or object, truncated file, garbage between records, a record
// over the size limit) raise hoprag::format_error naming the file, the record index and byte offset.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "hoprag/core/error.hpp"

namespace hoprag::data {

/// Layout of a dataset file.
enum class json_layout { array, lines };

/// Reads the top-level objects of a JSON array or JSON Lines file one at a time.
class json_record_stream {
public:
    /// Opens `path`; `buffer_bytes` is the read size, `max_record_bytes` bounds one record.
    /// Throws io_error when the file cannot be opened, format_error when it starts with neither
    /// '[' nor '{' (an empty or whitespace-only file is an empty stream).
    explicit json_record_stream(std::filesystem::path path, std::size_t buffer_bytes = std::size_t{1} << 20,
                                std::size_t max_record_bytes = std::size_t{256} << 20)
        : path_(std::move(path)), in_(path_, std::ios::binary), buf_(buffer_bytes ? buffer_bytes : 1),
          max_record_(max_record_bytes) {
        if (!in_) throw io_error("cannot open " + path_.string() + " for reading");
        // Skip a UTF-8 byte-order mark and leading whitespace, then decide the layout.
        int c = peek_nonspace();
        if (c == 0xEF) {
            for (const int want : {0xEF, 0xBB, 0xBF})
                if (get() != want) fail("bad byte-order mark at the start of the file");
            c = peek_nonspace();
        }
        if (c < 0) {
            done_ = true;
            layout_ = json_layout::lines;
        } else if (c == '[') {
            layout_ = json_layout::array;
            get();
        } else if (c == '{') {
            layout_ = json_layout::lines;
        } else {
            fail("expected '[' (JSON array) or '{' (JSON Lines) at byte " + std::to_string(offset_) + ", found " +
                 describe(c));
        }
    }

    [[nodiscard]] json_layout layout() const { return layout_; }
    [[nodiscard]] const std::filesystem::path& path() const { return path_; }
    /// Number of records returned so far (the index of the next one).
    [[nodiscard]] std::size_t index() const { return index_; }

    /// Reads the next object into `out` (replacing its contents; capacity >= size + `padding`) and
    /// its starting byte offset into `offset`. Returns false at the end of the data.
    bool next(std::string& out, std::uint64_t& offset, std::size_t padding = 64) {
        if (done_) return false;
        int c = peek_nonspace();
        if (layout_ == json_layout::array) {
            if (c == ']') {
                get();
                if (const int t = peek_nonspace(); t >= 0)
                    fail("unexpected " + describe(t) + " after the closing ']' at byte " + std::to_string(offset_));
                done_ = true;
                return false;
            }
            if (index_ > 0) {
                if (c != ',')
                    fail(c < 0 ? "truncated file: the top-level array is not closed (after record " +
                                     std::to_string(index_ - 1) + ")"
                               : "expected ',' or ']' after record " + std::to_string(index_ - 1) + " at byte " +
                                     std::to_string(offset_) + ", found " + describe(c));
                get();
                c = peek_nonspace();
            }
            if (c < 0) fail("truncated file: the top-level array is not closed");
        } else if (c < 0) {
            done_ = true;
            return false;
        }
        if (c != '{')
            fail("record " + std::to_string(index_) + " at byte " + std::to_string(offset_) +
                 " is not a JSON object (starts with " + describe(c) + ")");
        offset = offset_;
        out.clear();
        read_object(out);
        out.reserve(out.size() + padding);
        ++index_;
        return true;
    }

private:
    [[noreturn]] void fail(const std::string& what) const { throw format_error(path_.string() + ": " + what); }

    static std::string describe(int c) {
        if (c < 0) return "end of file";
        if (c >= 0x21 && c < 0x7F) return std::string("'") + char(c) + "'";
        return "byte 0x" + std::string(1, "0123456789abcdef"[(c >> 4) & 15]) + "0123456789abcdef"[c & 15];
    }

    bool fill() {
        if (pos_ < end_) return true;
        if (eof_) return false;
        in_.read(buf_.data(), static_cast<std::streamsize>(buf_.size()));
        const auto got = static_cast<std::size_t>(in_.gcount());
        if (got == 0) {
            if (in_.bad()) throw io_error("read error in " + path_.string() + " at byte " + std::to_string(offset_));
            eof_ = true;
            return false;
        }
        pos_ = 0;
        end_ = got;
        return true;
    }
    int peek() { return fill() ? static_cast<unsigned char>(buf_[pos_]) : -1; }
    int get() {
        const int c = peek();
        if (c >= 0) ++pos_, ++offset_;
        return c;
    }
    int peek_nonspace() {
        for (;;) {
            const int c = peek();
            if (c != ' ' && c != '\n' && c != '\r' && c != '\t') return c;
            ++pos_, ++offset_;
        }
    }

    // Copies one object (the '{' is next in the buffer) into out, span by span.
    void read_object(std::string& out) {
        std::size_t depth = 0;
        bool in_string = false, escape = false;
        const std::size_t start_index = index_;
        const std::uint64_t start_offset = offset_;
        for (;;) {
            if (!fill())
                fail("truncated file: record " + std::to_string(start_index) + " starting at byte " +
                     std::to_string(start_offset) + " is not closed");
            std::size_t i = pos_;
            bool closed = false;
            for (; i < end_; ++i) {
                const char ch = buf_[i];
                if (in_string) {
                    if (escape) escape = false;
                    else if (ch == '\\') escape = true;
                    else if (ch == '"') in_string = false;
                } else if (ch == '"') {
                    in_string = true;
                } else if (ch == '{' || ch == '[') {
                    ++depth;
                } else if (ch == '}' || ch == ']') {
                    if (depth == 0) fail("unbalanced '" + std::string(1, ch) + "' in record " + std::to_string(start_index));
                    if (--depth == 0) {
                        ++i;
                        closed = true;
                        break;
                    }
                }
            }
            out.append(buf_.data() + pos_, i - pos_);
            offset_ += i - pos_;
            pos_ = i;
            if (out.size() > max_record_)
                fail("record " + std::to_string(start_index) + " starting at byte " + std::to_string(start_offset) +
                     " is longer than the limit of " + std::to_string(max_record_) + " bytes");
            if (closed) return;
        }
    }

    std::filesystem::path path_;
    std::ifstream in_;
    std::vector<char> buf_;
    std::size_t max_record_;
    std::size_t pos_ = 0, end_ = 0;  // unread bytes are buf_[pos_, end_)
    std::uint64_t offset_ = 0;       // file offset of buf_[pos_]
    std::size_t index_ = 0;
    bool eof_ = false, done_ = false;
    json_layout layout_ = json_layout::lines;
};

}  // namespace hoprag::data
