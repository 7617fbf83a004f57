/*
 * lib/media/json.h: a small JSON writer for the label descriptions and job summaries
 * (lib/media/json.c): RFC 8259 output, two-space indentation, strings escaped as UTF-8 text.
 * Writing only; nothing in the library parses JSON.
 */
#ifndef MCM_LIB_MEDIA_JSON_H
#define MCM_LIB_MEDIA_JSON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MCM_JSON_MAX_DEPTH 16

typedef struct mcm_json {
    char *text;
    size_t length, capacity;
    int depth;
    int first[MCM_JSON_MAX_DEPTH]; /* no member written yet at this depth */
    int after_key;
    int failed;                    /* out of memory or misuse: the text is unusable */
} mcm_json;

void mcm_json_init(mcm_json *json);
void mcm_json_free(mcm_json *json);
void mcm_json_begin_object(mcm_json *json);
void mcm_json_end_object(mcm_json *json);
void mcm_json_begin_array(mcm_json *json);
void mcm_json_end_array(mcm_json *json);
void mcm_json_key(mcm_json *json, const char *key);
void mcm_json_string(mcm_json *json, const char *value); /* NULL writes null */
void mcm_json_int(mcm_json *json, int64_t value);
void mcm_json_bool(mcm_json *json, int value);
void mcm_json_null(mcm_json *json);
/* Conveniences: key then value. */
void mcm_json_kv_string(mcm_json *json, const char *key, const char *value);
void mcm_json_kv_int(mcm_json *json, const char *key, int64_t value);
void mcm_json_kv_bool(mcm_json *json, const char *key, int value);
/* The finished text (with a final newline), or NULL if anything failed. */
const char *mcm_json_text(mcm_json *json);

#ifdef __cplusplus
}
#endif

#endif
