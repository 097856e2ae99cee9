#include "core/regular_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace wisp {
namespace {

const char* file_type(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

}  // namespace

int open_regular_file(const std::string& path, ErrorKind kind, uint64_t* size) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    throw Error(errno == ENOENT ? kind : ErrorKind::Io,
                "cannot open '" + path + "': " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    throw Error(ErrorKind::Io, "cannot stat '" + path + "': " + std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error(kind, "'" + path + "' is " + file_type(st.st_mode) + ", not a regular file");
  }
  *size = static_cast<uint64_t>(st.st_size);
  return fd;
}

std::optional<std::string> read_regular_file(const std::string& path, size_t max_bytes, ErrorKind kind,
                                             bool missing_ok) {
  struct stat st {};
  if (missing_ok && ::lstat(path.c_str(), &st) != 0 && errno == ENOENT) return std::nullopt;
  uint64_t size = 0;
  const int fd = open_regular_file(path, kind, &size);
  if (size > max_bytes) {
    ::close(fd);
    throw Error(kind, "'" + path + "' is " + std::to_string(size) + " bytes, more than the " +
                          std::to_string(max_bytes) + " bytes such a file may have");
  }
  std::string data(static_cast<size_t>(size), '\0');
  size_t done = 0;
  while (done < data.size()) {  // a regular file never blocks; it may still shrink under us
    const ssize_t n = ::read(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      throw Error(ErrorKind::Io, "cannot read '" + path + "': " + std::strerror(err));
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  data.resize(done);
  return data;
}

}  // namespace wisp
