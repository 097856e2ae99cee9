// What the server sends back: a transcript in OpenAI's response formats, the server-sent events of a
// streamed transcription, and OpenAI's error body.
#pragma once

#include <string>

#include "decode/tokenizer.h"
#include "pipeline/transcript.h"
#include "request_params.h"

namespace wisp_server {

struct Body {
  std::string content_type;
  std::string text;
};

// json: {"text", "usage"}; text: the text and a newline; srt, vtt: openai's writers (cues from the words
// with word timestamps); verbose_json: task, language (its English name), duration, text, and segments
// and/or words as the request's timestamp granularities ask. With a tokenizer (the request has
// include[]=logprobs; json, verbose_json), "logprobs": [{"token", "logprob", "bytes"}] for every text token,
// as OpenAI's transcription API gives them (timestamp and special tokens left out; `bytes` the token's own
// UTF-8 bytes, which may be part of a character; `tok` turns ids into them). `tok` null: no logprobs.
Body render(const wisp::Transcript& t, const TranscriptionRequest& r, const wisp::decode::Tokenizer* tok);

// One server-sent event per segment as it is decoded ({"type": "transcript.text.delta", "delta": text,
// "segment": {id, start, end, text}}, with "logprobs" of its text tokens when asked) and the last one
// ({"type": "transcript.text.done", "text": ..., with "logprobs" of all of them when asked). `tok` null:
// no logprobs.
std::string delta_event(const wisp::Segment& s, const wisp::decode::Tokenizer* tok = nullptr);
std::string done_event(const wisp::Transcript& t, const wisp::decode::Tokenizer* tok = nullptr);
std::string error_event(const std::string& message);

// {"error": {"message", "type", "param", "code"}}; `param` and `code` null when empty.
std::string error_json(const std::string& message, const std::string& type, const std::string& param = "",
                       const std::string& code = "");

// "english" for "en" (the code itself when unknown).
std::string language_name(const std::string& code);

}  // namespace wisp_server
