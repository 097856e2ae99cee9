#include "output_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace wisp_cli {

std::string write_stdout(const std::string& text) {
  errno = 0;
  const bool needs_newline = !text.empty() && text.back() != '\n';
  bool ok = std::fwrite(text.data(), 1, text.size(), stdout) == text.size();
  if (ok && needs_newline) ok = std::fputc('\n', stdout) != EOF;
  // The stream buffers: without the flush a closed stdout or a full device would only fail at exit, unseen.
  if (std::fflush(stdout) != 0) ok = false;
  if (ok && !std::ferror(stdout)) return "";
  const int err = errno;
  std::clearerr(stdout);
  return err ? std::strerror(err) : "write error";
}

std::string write_file(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) return std::strerror(errno);
  size_t done = 0;
  int err = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {  // EFBIG, ENOSPC, EIO, ... (0 cannot happen for a regular file; treat it as an error)
      err = n < 0 ? errno : EIO;
      break;
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0 && err == 0) err = errno;  // network and some local file systems report here
  if (err == 0) return "";
  ::unlink(path.c_str());  // a truncated transcript must not pass for a whole one
  return std::strerror(err);
}

}  // namespace wisp_cli
