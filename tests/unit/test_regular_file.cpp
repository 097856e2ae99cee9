// The model's files are read only when they are regular files of sane size: a FIFO must not block open(),
// a device must not be read without end, an oversized JSON is refused before it is read.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/regular_file.h"

namespace wisp {
namespace {
namespace fs = std::filesystem;

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("wisp-regular-" + std::to_string(::getpid()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
};

void expect_model_error(const std::string& path, const std::string& needle, size_t max_bytes = 1 << 20) {
  try {
    read_regular_file(path, max_bytes, ErrorKind::Model);
    ADD_FAILURE() << path << " was read";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Model) << e.what();
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(RegularFile, ReadsARegularFile) {
  TempDir d;
  std::ofstream(d.path / "a.json") << "{\"x\": 1}";
  EXPECT_EQ(*read_regular_file((d.path / "a.json").string(), 100, ErrorKind::Model), "{\"x\": 1}");
  EXPECT_FALSE(read_regular_file((d.path / "none.json").string(), 100, ErrorKind::Model, true).has_value());
  expect_model_error((d.path / "none.json").string(), "No such file");
}

TEST(RegularFile, RefusesFifoDeviceDirectoryAndGiants) {
  TempDir d;
  const std::string fifo = (d.path / "fifo.json").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  expect_model_error(fifo, "a FIFO");  // would block in open() without O_NONBLOCK
  expect_model_error("/dev/zero", "a character device");
  expect_model_error(d.path.string(), "a directory");
  std::ofstream(d.path / "big.json") << std::string(2000, ' ');
  expect_model_error((d.path / "big.json").string(), "2000 bytes", 1000);
  uint64_t size = 0;
  EXPECT_THROW(open_regular_file(fifo, ErrorKind::Model, &size), Error);
}

}  // namespace
}  // namespace wisp
