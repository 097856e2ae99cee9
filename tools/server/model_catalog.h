// The installed models a server may load when a request names one (wisp serve gets them from the CLI's
// model folders): their names, and the directory of a name.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace wisp_server {

struct ModelCatalog {
  std::function<std::vector<std::string>()> installed;
  std::function<std::string(const std::string&)> path;
};

}  // namespace wisp_server
