/* Compiles against the public header alone (C, no wisp internals) and exercises the API end to end:
 * load, context, transcribe with a segment callback, read the result, format it, and error paths. */
#include <stdio.h>
#include <string.h>

#include "wisp/wisp.h"

static int n_callbacks = 0;
static int on_segment(const wisp_segment* s, void* user) {
  (void)user;
  if (s->text == NULL || s->end < s->start) return 0;
  ++n_callbacks;
  return 1;
}

#define CHECK(cond, ...)                       \
  do {                                         \
    if (!(cond)) {                             \
      fprintf(stderr, "FAILED: " __VA_ARGS__); \
      fprintf(stderr, "\n");                   \
      return 1;                                \
    }                                          \
  } while (0)

int main(int argc, char** argv) {
  CHECK(argc == 3, "usage: api_c_test MODEL_DIR AUDIO");
  wisp_model* model = NULL;
  wisp_model_params mp = wisp_model_params_default();

  /* errors: status + message, never a crash */
  CHECK(wisp_model_load("/nonexistent/model", &mp, &model) != WISP_OK && model == NULL,
        "missing model accepted");
  CHECK(strlen(wisp_last_error()) > 0, "no message for a missing model");
  CHECK(wisp_model_load(NULL, &mp, &model) == WISP_ERR_INVALID_ARGUMENT, "NULL path accepted");

  CHECK(wisp_model_load(argv[1], &mp, &model) == WISP_OK, "load: %s", wisp_last_error());
  wisp_context* ctx = NULL;
  CHECK(wisp_context_create(model, &ctx) == WISP_OK, "context: %s", wisp_last_error());

  wisp_transcribe_params p = wisp_transcribe_params_default();
  p.beam_size = 1;
  p.on_segment = on_segment;
  wisp_result* result = NULL;
  CHECK(wisp_transcribe_file(ctx, "/nonexistent.wav", &p, &result) != WISP_OK && result == NULL,
        "missing audio accepted");
  p.task = (wisp_task)77;
  CHECK(wisp_transcribe_file(ctx, argv[2], &p, &result) == WISP_ERR_INVALID_ARGUMENT && result == NULL,
        "task 77 accepted");
  p.task = WISP_TASK_TRANSCRIBE;
  CHECK(wisp_language_code("English") != NULL && strcmp(wisp_language_code("English"), "en") == 0,
        "language name not resolved");
  CHECK(wisp_transcribe_file(ctx, argv[2], &p, &result) == WISP_OK, "transcribe: %s", wisp_last_error());
  CHECK(wisp_result_n_segments(result) > 0, "no segments");
  CHECK(n_callbacks == wisp_result_n_segments(result), "callbacks %d != segments", n_callbacks);
  CHECK(strstr(wisp_result_text(result), "fellow Americans") != NULL, "text: %s", wisp_result_text(result));
  CHECK(wisp_result_segment(result, -1) == NULL, "out-of-range segment returned");
  const char* srt = NULL;
  CHECK(wisp_result_format(result, WISP_FORMAT_SRT, &srt) == WISP_OK && strstr(srt, "-->") != NULL, "srt");
  CHECK(wisp_result_n_words(result, 0) == 0 && wisp_result_segment(result, 0)->n_words == 0,
        "words without word_timestamps");
  wisp_format_params fp = wisp_format_params_default();
  fp.highlight_words = 1;
  CHECK(wisp_result_format_with(result, WISP_FORMAT_VTT, &fp, &srt) == WISP_ERR_INVALID_ARGUMENT,
        "highlight_words accepted without word timestamps");
  printf("%s\n", wisp_result_text(result));
  wisp_result_free(result);

  /* word timestamps: words per segment, in time order */
  p.word_timestamps = 1;
  CHECK(wisp_transcribe_file(ctx, argv[2], &p, &result) == WISP_OK, "words: %s", wisp_last_error());
  int n_words = 0;
  double last_start = 0;
  for (int i = 0; i < wisp_result_n_segments(result); ++i) {
    const wisp_segment* s = wisp_result_segment(result, i);
    CHECK(s->n_words == wisp_result_n_words(result, i), "n_words differ");
    for (int k = 0; k < s->n_words; ++k) {
      const wisp_word* w = wisp_result_word(result, i, k);
      CHECK(w == &s->words[k] && w->text && w->start >= last_start && w->start <= w->end &&
                w->probability >= 0 && w->probability <= 1,
            "word %d of segment %d: %s %.2f-%.2f", k, i, w->text, w->start, w->end);
      last_start = w->start;
    }
    n_words += s->n_words;
  }
  CHECK(n_words >= 20, "only %d words", n_words);
  CHECK(wisp_result_word(result, 0, -1) == NULL && wisp_result_word(result, 99, 0) == NULL &&
            wisp_result_n_words(result, -1) == 0,
        "out-of-range word returned");
  fp.max_line_width = 20;
  fp.max_line_count = 2;
  CHECK(wisp_result_format_with(result, WISP_FORMAT_SRT, &fp, &srt) == WISP_OK && strstr(srt, "<u>") != NULL,
        "highlighted srt: %s", wisp_last_error());
  fp.max_line_width = -1;
  CHECK(wisp_result_format_with(result, WISP_FORMAT_SRT, &fp, &srt) == WISP_ERR_INVALID_ARGUMENT,
        "negative line width accepted");
  wisp_result_free(result);
  p.word_timestamps = 0;

  /* the model may be freed before its contexts */
  wisp_model_free(model);
  float silence[16000] = {0};
  CHECK(wisp_transcribe_pcm(ctx, silence, 16000, &p, &result) == WISP_OK, "pcm: %s", wisp_last_error());
  wisp_result_free(result);
  wisp_context_free(ctx);
  printf("api_c_test: all checks passed\n");
  return 0;
}
