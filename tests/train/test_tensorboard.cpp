// TensorBoard event files: CRC32C known answers (iSCSI / RFC 3720 vectors), TFRecord framing round
// trip through read_tfrecords (odd and empty payloads, a cut-off tail at every byte, corrupted
// bytes), the events a tensorboard_writer writes decoded by an independent protobuf walker in
// this file, and a read-back by the PyPI `tensorboard` package's EventFileLoader through the
// project venv (.venv/bin/python, made by scripts/setup). Where that python or package is missing
// the read-back test fails and says to run scripts/setup.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hoprag/train/tensorboard.hpp"
#include "support/files.hpp"
#include "support/reference.hpp"

using namespace hoprag;
using test::slurp;
using namespace hoprag::train;
namespace fs = std::filesystem;

namespace {

fs::path temp_dir(const std::string& name) {
    const auto dir = fs::path(test::binary_dir()) / "test-tmp" / (name + "-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}
void spill(const fs::path& p, const std::string& s) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << s;
}

/// A protobuf field as this test's own walker sees it (wire types 0, 1, 2, 5).
struct pb_field {
    std::uint32_t number = 0, wire = 0;
    std::uint64_t scalar = 0;  // varint, fixed64 or fixed32 bits
    std::string bytes;         // length-delimited payload
};
std::vector<pb_field> pb_parse(const std::string& m) {
    std::vector<pb_field> out;
    std::size_t i = 0;
    const auto varint = [&] {
        std::uint64_t v = 0;
        for (int shift = 0;; shift += 7) {
            REQUIRE(i < m.size());
            REQUIRE(shift < 64);
            const auto b = static_cast<unsigned char>(m[i++]);
            v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
            if (!(b & 0x80)) return v;
        }
    };
    const auto fixed = [&](int n) {
        REQUIRE(i + static_cast<std::size_t>(n) <= m.size());
        std::uint64_t v = 0;
        for (int k = 0; k < n; ++k) v |= static_cast<std::uint64_t>(static_cast<unsigned char>(m[i++])) << (8 * k);
        return v;
    };
    while (i < m.size()) {
        const auto key = varint();
        pb_field f{static_cast<std::uint32_t>(key >> 3), static_cast<std::uint32_t>(key & 7)};
        if (f.wire == 0) f.scalar = varint();
        else if (f.wire == 1) f.scalar = fixed(8);
        else if (f.wire == 5) f.scalar = fixed(4);
        else if (f.wire == 2) {
            const auto len = varint();
            REQUIRE(len <= m.size() - i);
            f.bytes = m.substr(i, len);
            i += len;
        } else FAIL("unexpected wire type " << f.wire);
        out.push_back(std::move(f));
    }
    return out;
}
const pb_field* pb_find(const std::vector<pb_field>& fs, std::uint32_t number) {
    for (const auto& f : fs)
        if (f.number == number) return &f;
    return nullptr;
}

std::string find_event_file(const fs::path& dir) {
    std::vector<std::string> found;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.path().filename().string().rfind("events.out.tfevents.", 0) == 0) found.push_back(e.path().string());
    REQUIRE(found.size() == 1);
    return found[0];
}

}  // namespace

TEST_CASE("crc32c known answers and TensorFlow masking", "[train][tensorboard]") {
    CHECK(crc32c("123456789") == 0xE3069283u);
    CHECK(crc32c("") == 0u);
    CHECK(crc32c(std::string(32, '\0')) == 0x8A9136AAu);      // RFC 3720 B.4
    CHECK(crc32c(std::string(32, '\xFF')) == 0x62A8AB43u);    // RFC 3720 B.4
    std::string up(32, '\0'), down(32, '\0');
    for (int i = 0; i < 32; ++i) up[static_cast<std::size_t>(i)] = static_cast<char>(i), down[static_cast<std::size_t>(i)] = static_cast<char>(31 - i);
    CHECK(crc32c(up) == 0x46DD794Eu);
    CHECK(crc32c(down) == 0x113FDB5Cu);
    // incremental = one shot
    CHECK(crc32c("6789", crc32c("12345")) == 0xE3069283u);
    // mask = rotate right 15, add 0xa282ead8: 0xE3069283 -> 0x2507C60D + 0xa282ead8 (mod 2^32)
    CHECK(masked_crc32c("123456789") == ((0x2507C60Du + 0xa282ead8u) & 0xFFFFFFFFu));
}

TEST_CASE("TFRecord framing round trip, cut-off tails, corruption", "[train][tensorboard]") {
    std::mt19937 gen(7);
    std::vector<std::string> payloads{"", "x", std::string(3, '\0')};
    for (std::size_t n : {1u, 7u, 127u, 128u, 300u, 4097u}) {
        std::string p(n, '\0');
        for (auto& c : p) c = static_cast<char>(gen());
        payloads.push_back(p);
    }
    std::string file;
    for (const auto& p : payloads) {
        const auto r = tfrecord_frame(p);
        REQUIRE(r.size() == p.size() + 16);
        file += r;
    }
    const auto dir = temp_dir("tfrecord");
    const auto path = dir / "records";
    spill(path, file);
    CHECK(read_tfrecords(path.string()) == payloads);

    SECTION("a cut-off last record is ignored, wherever the cut falls") {
        const std::size_t last = file.size() - (payloads.back().size() + 16);
        for (std::size_t cut = last; cut < file.size(); cut += (cut < last + 16 || cut + 8 > file.size()) ? 1 : 97) {
            spill(path, file.substr(0, cut));
            const auto got = read_tfrecords(path.string());
            REQUIRE(got.size() == payloads.size() - 1);
            CHECK(got.back() == payloads[payloads.size() - 2]);
        }
    }
    SECTION("a flipped byte in a length or a payload is a format_error naming the file") {
        auto bad = file;
        bad[16 + 0 + 2] ^= 0x01;  // the length of record 1 ("x"), after record 0 (16 bytes)
        spill(path, bad);
        CHECK_THROWS_WITH(read_tfrecords(path.string()), Catch::Contains("length CRC mismatch") && Catch::Contains(path.string()));
        bad = file;
        bad[16 + 12] ^= 0x40;  // the payload byte of record 1
        spill(path, bad);
        CHECK_THROWS_WITH(read_tfrecords(path.string()), Catch::Contains("data CRC mismatch") && Catch::Contains("byte 16"));
    }
    fs::remove_all(dir);
}

TEST_CASE("tensorboard_writer events decode to the protobuf fields of event.proto", "[train][tensorboard]") {
    const auto dir = temp_dir("tbwriter") / "tb";  // created by the writer
    const double before = std::floor(tb_detail::now_seconds());
    std::string path;
    {
        tensorboard_writer w(dir);
        path = w.path();
        CHECK(fs::path(path).filename().string().rfind("events.out.tfevents.", 0) == 0);
        w.add_scalars(1, {{"loss", 2.5}, {"lr", 3e-4}});
        w.add_scalar(-3, "neg/step", -1.0);
        w.add_scalars(1ll << 40, {{"big", 1e30}});
        w.add_text(0, "config", "{\"lr\": 0.001}\n| a | b |");
        w.add_session_start(7);
        // flushed per record: a reader sees all six while the writer is open
        CHECK(read_tfrecords(path).size() == 6);
        tensorboard_writer second(dir);  // same second, same folder: its own file
        CHECK(second.path() != path);
    }
    const auto recs = read_tfrecords(path);
    REQUIRE(recs.size() == 6);
    // record 0: wall_time (1, double) + file_version (3) = "brain.Event:2"
    const auto e0 = pb_parse(recs[0]);
    REQUIRE(pb_find(e0, 1));
    CHECK(pb_find(e0, 1)->wire == 1);
    const double wall = std::bit_cast<double>(pb_find(e0, 1)->scalar);
    CHECK(wall >= before);
    CHECK(wall < before + 600.0);
    REQUIRE(pb_find(e0, 3));
    CHECK(pb_find(e0, 3)->bytes == "brain.Event:2");

    struct scalar {
        std::int64_t step;
        std::string tag;
        float value;
    };
    std::vector<scalar> scalars;
    for (std::size_t r = 1; r < 4; ++r) {
        const auto e = pb_parse(recs[r]);
        REQUIRE(pb_find(e, 2));
        REQUIRE(pb_find(e, 5));
        CHECK(pb_find(e, 1)->wire == 1);
        for (const auto& v : pb_parse(pb_find(e, 5)->bytes)) {
            REQUIRE(v.number == 1);
            const auto val = pb_parse(v.bytes);
            REQUIRE(pb_find(val, 1));
            REQUIRE(pb_find(val, 2));
            CHECK(pb_find(val, 2)->wire == 5);
            scalars.push_back({static_cast<std::int64_t>(pb_find(e, 2)->scalar), pb_find(val, 1)->bytes,
                               std::bit_cast<float>(static_cast<std::uint32_t>(pb_find(val, 2)->scalar))});
        }
    }
    REQUIRE(scalars.size() == 4);
    CHECK((scalars[0].step == 1 && scalars[0].tag == "loss" && scalars[0].value == 2.5f));
    CHECK((scalars[1].step == 1 && scalars[1].tag == "lr" && scalars[1].value == 3e-4f));
    CHECK((scalars[2].step == -3 && scalars[2].tag == "neg/step" && scalars[2].value == -1.0f));
    CHECK((scalars[3].step == (1ll << 40) && scalars[3].tag == "big" && scalars[3].value == 1e30f));

    // record 4: text value = tag 1, metadata 9 {plugin_data 1 {plugin_name 1 = "text"}}, tensor 8
    const auto e4 = pb_parse(recs[4]);
    CHECK(pb_find(e4, 2)->scalar == 0);
    const auto values = pb_parse(pb_find(e4, 5)->bytes);
    REQUIRE(values.size() == 1);
    const auto tv = pb_parse(values[0].bytes);
    CHECK(pb_find(tv, 1)->bytes == "config");
    REQUIRE(pb_find(tv, 9));
    CHECK(pb_find(pb_parse(pb_find(pb_parse(pb_find(tv, 9)->bytes), 1)->bytes), 1)->bytes == "text");
    REQUIRE(pb_find(tv, 8));
    const auto tensor = pb_parse(pb_find(tv, 8)->bytes);
    CHECK(pb_find(tensor, 1)->scalar == 7);  // DT_STRING
    CHECK(pb_find(tensor, 8)->bytes == "{\"lr\": 0.001}\n| a | b |");
    // record 5: step 7, session_log 7 { status 1 = START }, no summary (6 is the deprecated log_message)
    const auto e5 = pb_parse(recs[5]);
    CHECK(pb_find(e5, 2)->scalar == 7);
    CHECK(!pb_find(e5, 5));
    CHECK(!pb_find(e5, 6));
    REQUIRE(pb_find(e5, 7));
    CHECK(pb_find(pb_parse(pb_find(e5, 7)->bytes), 1)->scalar == 1);
    fs::remove_all(dir.parent_path());
}

TEST_CASE("the PyPI tensorboard package reads the event file back", "[train][tensorboard][python]") {
    const std::string python = test::source_dir() + "/.venv/bin/python";
    test::require_setup_input(python);
    if (test::run_command("'" + python + "' -c 'import tensorboard' >/dev/null 2>&1") != 0)
        FAIL(python << " cannot import tensorboard: run scripts/setup");
    const auto dir = temp_dir("tbpython");
    std::string path;
    {
        tensorboard_writer w(dir / "tb");
        path = w.path();
        for (int s = 1; s <= 5; ++s) w.add_scalars(s, {{"loss", 1.0 / s}, {"lr", 1e-3 * s}});
        w.add_scalar(5, "eval/acc", 0.8125);
        w.add_scalar(6, "loss", NAN);
        w.add_text(6, "run/result", "steps: **6**");
        w.add_session_start(7);
    }
    const auto script = dir / "read.py";
    spill(script, R"(import json, sys
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader, RawEventFileLoader
from tensorboard.compat.proto import event_pb2
# raw: the protobuf parse of exactly what was written; migrated: what TensorBoard's UI works from
raw = [event_pb2.Event.FromString(r) for r in RawEventFileLoader(sys.argv[1]).Load()]
migrated = list(EventFileLoader(sys.argv[1]).Load())
assert len(raw) == len(migrated)
out = []
for ev, mig in zip(raw, migrated):
    rec = {"step": ev.step, "wall_time": ev.wall_time, "file_version": ev.file_version, "values": [],
           "session_start": ev.HasField("session_log") and ev.session_log.status == event_pb2.SessionLog.START}
    for v, m in zip(ev.summary.value, mig.summary.value):
        if v.HasField("tensor"):
            rec["values"].append({"tag": v.tag, "plugin": v.metadata.plugin_data.plugin_name,
                                  "dtype": v.tensor.dtype, "text": v.tensor.string_val[0].decode("utf-8"),
                                  "shown_by": m.metadata.plugin_data.plugin_name})
        else:
            x = v.simple_value
            rec["values"].append({"tag": v.tag, "simple_value": None if x != x else x,
                                  "shown_by": m.metadata.plugin_data.plugin_name})
    out.append(rec)
print(json.dumps(out))
)");
    const auto run = [&](const std::string& file) {
        const auto out = dir / "out.json";
        const std::string cmd = "'" + python + "' '" + script.string() + "' '" + file + "' > '" + out.string() + "' 2>'" + (dir / "err.txt").string() + "'";
        const int rc = std::system(cmd.c_str());
        INFO("command: " << cmd << "\nstderr: " << slurp(dir / "err.txt"));
        REQUIRE(rc == 0);
        return nlohmann::json::parse(slurp(out));
    };
    const auto j = run(path);
    REQUIRE(j.size() == 10);  // file_version + 5 + eval + NaN + text + session start
    CHECK(j[0]["file_version"] == "brain.Event:2");
    for (int s = 1; s <= 5; ++s) {
        const auto& e = j[static_cast<std::size_t>(s)];
        CHECK(e["step"] == s);
        REQUIRE(e["values"].size() == 2);
        CHECK(e["values"][0]["tag"] == "loss");
        CHECK(e["values"][0]["shown_by"] == "scalars");  // TensorBoard's Scalars tab
        CHECK(e["values"][0]["simple_value"].get<double>() == static_cast<double>(static_cast<float>(1.0 / s)));
        CHECK(e["values"][1]["tag"] == "lr");
        CHECK(e["values"][1]["simple_value"].get<double>() == static_cast<double>(static_cast<float>(1e-3 * s)));
        CHECK(e["wall_time"].get<double>() >= j[0]["wall_time"].get<double>());
    }
    CHECK(j[6]["values"][0]["tag"] == "eval/acc");
    CHECK(j[6]["values"][0]["simple_value"] == 0.8125);
    CHECK(j[7]["step"] == 6);
    CHECK(j[7]["values"][0]["simple_value"].is_null());  // NaN
    CHECK(j[8]["values"][0]["tag"] == "run/result");
    CHECK(j[8]["values"][0]["plugin"] == "text");
    CHECK(j[8]["values"][0]["dtype"] == 7);
    CHECK(j[8]["values"][0]["text"] == "steps: **6**");
    CHECK(j[8]["values"][0]["shown_by"] == "text");
    CHECK(!j[8]["session_start"].get<bool>());
    CHECK(j[9]["step"] == 7);
    CHECK(j[9]["session_start"].get<bool>());

    // the reader checks our CRCs: corrupting record 3's payload ends its read after records 0..2
    auto bytes = slurp(path);
    const auto recs = read_tfrecords(path);
    const std::size_t at3 = recs[0].size() + recs[1].size() + recs[2].size() + 3 * 16;
    bytes[at3 + 12 + 1] ^= 0x20;
    const auto bad = (dir / "tb" / "corrupt.tfevents").string();
    spill(bad, bytes);
    CHECK(run(bad).size() == 3);
    // and stops quietly at a cut-off last record, as after kill -9
    bytes = slurp(path);
    spill(bad, bytes.substr(0, bytes.size() - 5));
    CHECK(run(bad).size() == 9);
    fs::remove_all(dir);
}
