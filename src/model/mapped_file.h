// A read-only memory map of a whole file (RAII). Weights are read straight from the map.
#pragma once

#include <cstddef>
#include <string>

namespace wisp {

class MappedFile {
 public:
  explicit MappedFile(const std::string& path);  // throws Error(Io) naming the file
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const unsigned char* data() const { return data_; }
  // Gives the pages wholly inside [p, p + n) back to the kernel (they stay mapped and readable: a later read
  // fetches them from the file again). For weights that were copied into another form.
  void release(const void* p, size_t n) const;
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  const unsigned char* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace wisp
