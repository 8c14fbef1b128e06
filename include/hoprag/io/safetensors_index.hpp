// Sharded and single-file safetensors checkpoints behind one interface. Hugging Face stores large
// models as shards plus `model.safetensors.index.json` whose `weight_map` maps every tensor name to
// its shard file. `safetensors_checkpoint` opens a folder (index file, else `model.safetensors`),
// an index file or a single `.safetensors` file, maps every shard once, checks that each tensor of
// the weight map is present in the shard it names and that no tensor appears twice, and looks
// tensors up by name across shards. Problems throw `format_error` naming the file and tensor.
#pragma once

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "hoprag/core/error.hpp"
#include "hoprag/io/mapped_file.hpp"
#include "hoprag/io/safetensors.hpp"

namespace hoprag::io {

/// All tensors of a (possibly sharded) safetensors checkpoint. Views stay valid while it lives.
class safetensors_checkpoint {
public:
    /// Opens a folder, a `*.safetensors.index.json` or a `*.safetensors` file. Throws io_error if
    /// nothing readable is there and format_error for a bad index or shard.
    explicit safetensors_checkpoint(const std::filesystem::path& path) {
        namespace fs = std::filesystem;
        if (fs::is_directory(path)) {
            if (fs::exists(path / "model.safetensors.index.json")) open_index(path / "model.safetensors.index.json");
            else if (fs::exists(path / "model.safetensors")) add_shard(path / "model.safetensors");
            else throw io_error("safetensors checkpoint '" + path.string() + "': folder holds neither model.safetensors.index.json nor model.safetensors");
        } else if (path.filename().string().ends_with(".json")) {
            open_index(path);
        } else {
            add_shard(path);
        }
    }

    /// The tensor called `name`, or nullptr.
    const safetensors_tensor* find(std::string_view name) const {
        const auto it = tensors_.find(std::string(name));
        return it == tensors_.end() ? nullptr : it->second;
    }
    /// The tensor called `name`; throws format_error if no shard holds it.
    const safetensors_tensor& at(std::string_view name) const {
        if (const auto* t = find(name)) return *t;
        throw format_error("safetensors checkpoint '" + origin_ + "': no tensor named '" + std::string(name) + "'");
    }
    /// Every tensor, by name.
    const std::map<std::string, const safetensors_tensor*>& tensors() const { return tensors_; }
    /// The mapped shards, in the order they were opened.
    const std::vector<std::unique_ptr<safetensors_file>>& shards() const { return shards_; }
    /// Metadata of the index file (its "metadata" object, values as JSON text unless strings), or of
    /// the single file.
    const std::map<std::string, std::string>& metadata() const { return metadata_; }

private:
    void open_index(const std::filesystem::path& index_path) {
        origin_ = index_path.string();
        const mapped_file f(index_path);
        const auto* text = reinterpret_cast<const char*>(f.data());
        nlohmann::json j;
        try {
            j = nlohmann::json::parse(text, text + f.size());
        } catch (const nlohmann::json::exception& e) {
            throw format_error("safetensors index '" + origin_ + "': not valid JSON: " + e.what());
        }
        if (!j.is_object()) throw format_error("safetensors index '" + origin_ + "': not a JSON object");
        const auto wm = j.find("weight_map");
        if (wm == j.end() || !wm->is_object()) throw format_error("safetensors index '" + origin_ + "': missing object 'weight_map'");
        if (const auto md = j.find("metadata"); md != j.end() && md->is_object())
            for (const auto& [k, v] : md->items()) metadata_[k] = v.is_string() ? v.get<std::string>() : v.dump();
        std::map<std::string, std::size_t> shard_of_file;
        std::map<std::string, std::string> expected;  // tensor -> shard file name
        for (const auto& [name, file] : wm->items()) {
            if (!file.is_string()) throw format_error("safetensors index '" + origin_ + "': weight_map entry '" + name + "' is not a string");
            const std::string shard = file.get<std::string>();
            if (shard.empty() || shard.find('/') != std::string::npos || shard == "." || shard == "..")
                throw format_error("safetensors index '" + origin_ + "': weight_map entry '" + name + "' names shard '" + shard +
                                   "', which is not a file name in the index's folder");
            expected[name] = shard;
            if (!shard_of_file.count(shard)) {
                shard_of_file[shard] = shards_.size();
                add_shard(index_path.parent_path() / shard, false);
            }
        }
        for (const auto& [name, shard] : expected) {
            const auto& sf = *shards_[shard_of_file[shard]];
            if (sf.find(name) == nullptr)
                throw format_error("safetensors index '" + origin_ + "': tensor '" + name + "' is mapped to '" + shard +
                                   "', which does not hold it");
        }
    }

    void add_shard(const std::filesystem::path& p, bool single = true) {
        if (single) origin_ = p.string();
        shards_.push_back(std::make_unique<safetensors_file>(p));
        const auto& sf = *shards_.back();
        if (single) metadata_ = sf.metadata();
        for (const auto& t : sf.tensors()) {
            if (!tensors_.emplace(t.name, &t).second)
                throw format_error("safetensors checkpoint '" + origin_ + "': tensor '" + t.name + "' appears in more than one shard (again in '" +
                                   p.string() + "')");
        }
    }

    std::string origin_;
    std::vector<std::unique_ptr<safetensors_file>> shards_;
    std::map<std::string, const safetensors_tensor*> tensors_;
    std::map<std::string, std::string> metadata_;
};

}  // namespace hoprag::io
