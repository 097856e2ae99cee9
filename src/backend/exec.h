// Exec: how one context runs backend calls — its thread count and its scratch space. One per context (not
// shared between threads that compute at the same time); the model and its packed weights are shared.
#pragma once

#include "backend/buffer.h"

namespace wisp::backend {

struct Exec {
  int threads = 1;
  Workspace* ws = nullptr;
};

}  // namespace wisp::backend
