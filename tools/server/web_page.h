// The page served at "/": drop a file or record from the microphone, watch the segments arrive (a streamed
// transcription), download txt/srt/vtt/json. Its source is tools/server/web/index.html, built in.
#pragma once

#include <string>

namespace wisp_server {

const std::string& web_page();

}  // namespace wisp_server
