// Weights & Biases mirroring (train/wandb.hpp): mirror_to_wandb with an absent CLI (one clear line)
// and a stand-in CLI (the `artifact put` arguments); wandb_mirror offline (upload.sh collects the
// commands, run folder untouched) and online (put per version, `sync --project` of tb/ at the end);
// and hoprag-train-mlp --wandb, which says which mode it ran in.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "hoprag/train/artifact_store.hpp"
#include "hoprag/train/wandb.hpp"
#include "support/files.hpp"
#include "support/reference.hpp"

using namespace hoprag;
using test::fresh_dir;
using test::put;
using test::slurp;
namespace fs = std::filesystem;

namespace {

train::artifact_metadata meta(std::int64_t step, double f1) {
    train::artifact_metadata m;
    m.step = step;
    m.base_model = "mlp";
    m.metrics = {{"eval_f1", f1}};
    return m;
}

/// A stand-in wandb CLI in DIR/fake-bin that appends its arguments to DIR/fake-bin/args.txt.
fs::path fake_wandb(const fs::path& dir) {
    const auto bin = dir / "fake-bin";
    fs::create_directories(bin);
    put(bin / "wandb", "#!/bin/sh\necho \"$@\" >> \"$(dirname \"$0\")/args.txt\"\n");
    fs::permissions(bin / "wandb", fs::perms::owner_all);
    return bin;
}

}  // namespace

TEST_CASE("wandb mirror: absent CLI is one clear line, a present one gets artifact put", "[train][artifact]") {
    const auto d = fresh_dir("art-wandb");
    put(d / "m", "weights");
    train::artifact_store store(d / "s");
    const auto v = store.log("ck", {d / "m"}, meta(3, 0.5));
    fs::create_directories(d / "empty-bin");
    const std::string empty_path = (d / "empty-bin").string();
    const auto absent = train::mirror_to_wandb(v, "proj", "model", empty_path.c_str());
    REQUIRE_FALSE(absent.mirrored);
    REQUIRE(absent.message.find("wandb CLI not found") != std::string::npos);
    REQUIRE(absent.message.find('\n') == std::string::npos);
    REQUIRE(store.resolve("ck").version == 0);  // local store unaffected

    const auto bin = fake_wandb(d);
    const std::string fake_path = empty_path + ":" + bin.string();
    const auto res = train::mirror_to_wandb(v, "proj", "model", fake_path.c_str());
    INFO(res.message);
    REQUIRE(res.mirrored);
    REQUIRE(slurp(bin / "args.txt") == "artifact put --name proj/ck --type model --alias v0 " + v.dir.string() + "\n");
    put(bin / "wandb", "#!/bin/sh\nexit 3\n");
    const auto failed = train::mirror_to_wandb(v, "proj", "model", fake_path.c_str());
    REQUIRE_FALSE(failed.mirrored);
    REQUIRE(failed.message.find("status 3") != std::string::npos);
}

TEST_CASE("wandb_mirror: offline collects upload commands, online puts versions and syncs the events", "[train][wandb]") {
    const auto d = fresh_dir("wandb-run");
    put(d / "m", "weights");
    train::artifact_store store(d / "run" / "artifacts");
    const auto v0 = store.log("ck", {d / "m"}, meta(1, 0.5));
    fs::create_directories(d / "empty-bin");
    train::wandb_mirror off("my proj", d / "run", (d / "empty-bin").c_str());
    CHECK_FALSE(off.online());
    CHECK(off.status_line().find("offline run directory") != std::string::npos);
    CHECK(off.artifact(v0).find("queued") != std::string::npos);
    CHECK(off.finish().find("no TensorBoard events") != std::string::npos);  // no tb/ folder
    fs::create_directories(d / "run" / "tb");
    CHECK(off.finish().find("queued") != std::string::npos);
    const auto script = slurp(d / "run" / "wandb-offline" / "upload.sh");
    CHECK(script.rfind("#!/bin/sh\n", 0) == 0);
    CHECK(script.find("wandb artifact put --name 'my proj/ck' --type model --alias v0 " + v0.dir.string() + "\n") != std::string::npos);
    CHECK(script.find("wandb sync --project 'my proj' " + (d / "run" / "tb").string() + "\n") != std::string::npos);

    const auto bin = fake_wandb(d);
    train::wandb_mirror on("p", d / "run", bin.c_str());
    CHECK(on.online());
    CHECK(on.status_line().find("mirroring metrics and artifacts to project p") != std::string::npos);
    CHECK(on.artifact(v0).find("mirrored artifact 'ck' v0") != std::string::npos);
    CHECK(on.finish() == "wandb: synced the run's metrics to project p");
    CHECK(slurp(bin / "args.txt") ==
          "artifact put --name p/ck --type model --alias v0 " + v0.dir.string() + "\nsync --project p " + (d / "run" / "tb").string() + "\n");
}

TEST_CASE("hoprag-train-mlp --wandb says which mode it ran in and mirrors every checkpoint", "[train][wandb][program]") {
    const auto d = fresh_dir("wandb-mlp");
    const fs::path prog = fs::path(test::binary_dir()) / "bin" / "hoprag-train-mlp";
    REQUIRE(fs::exists(prog));
    fs::create_directories(d / "empty-bin");
    const auto bin = fake_wandb(d);
    const auto run = [&](const std::string& path, const std::string& tag) {
        const auto out = d / tag;
        const int rc = test::run_command("PATH='" + path + "' '" + prog.string() + "' --out '" + out.string() +
                                         "' --max-steps 4 --save-steps 2 --eval-steps 2 --wandb proj > '" + (d / (tag + ".out")).string() + "' 2> '" +
                                         (d / (tag + ".err")).string() + "'");
        INFO(slurp(d / (tag + ".err")));
        REQUIRE(rc == 0);
        return nlohmann::json::parse(test::lines_of(d / (tag + ".out")).back());
    };
    CHECK(run((d / "empty-bin").string(), "off").at("wandb") == "offline");
    CHECK(slurp(d / "off.err").find("wandb: CLI not found on PATH; offline run directory") != std::string::npos);
    const auto script = slurp(d / "off" / "wandb-offline" / "upload.sh");
    CHECK(script.find("--alias v0") != std::string::npos);
    CHECK(script.find("--alias v1") != std::string::npos);
    CHECK(script.find("wandb sync --project proj") != std::string::npos);

    CHECK(run(bin.string() + ":/usr/bin:/bin", "on").at("wandb") == "online");
    const auto args = slurp(bin / "args.txt");
    CHECK(args.find("artifact put --name proj/mlp-checkpoint --type model --alias v1") != std::string::npos);
    CHECK(args.find("sync --project proj " + (d / "on" / "tb").string()) != std::string::npos);
    CHECK_FALSE(fs::exists(d / "on" / "wandb-offline"));
}
