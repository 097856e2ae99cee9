// Whether the client of a request is still there. cpp-httplib 0.11 does not hand a handler its socket, so
// the probe finds it among the process's descriptors by the connection's two ends (the client's address and
// port, the server's port), then peeks at it: an orderly close or a reset means the client went away, and
// the server cancels the transcription it asked for.
#pragma once

#include <string>

namespace wisp_server {

class ConnectionProbe {
 public:
  // The socket whose peer is remote_addr:remote_port and whose own port is local_port; none found: the
  // probe always says the client is there.
  ConnectionProbe(const std::string& remote_addr, int remote_port, int local_port);
  // True once the client has closed or reset the connection (never blocks).
  bool client_gone() const;

 private:
  int fd_ = -1;
};

}  // namespace wisp_server
