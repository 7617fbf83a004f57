/*
 * lib/media/json.c: the JSON writer of lib/media/json.h. Escapes what RFC 8259 section 7 requires
 * (quote, backslash, control characters); other bytes pass through, so valid UTF-8 in gives valid
 * JSON out. Errors stick (json->failed) so callers check once at the end.
 */
#include "media/json.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mcm_json_init(mcm_json *json)
{
    memset(json, 0, sizeof *json);
    json->first[0] = 1;
}

void mcm_json_free(mcm_json *json)
{
    free(json->text);
    memset(json, 0, sizeof *json);
}

static void append(mcm_json *json, const char *data, size_t size)
{
    if (json->failed)
        return;
    if (json->length + size + 1 > json->capacity) {
        size_t capacity = json->capacity ? json->capacity : 1024;
        while (json->length + size + 1 > capacity)
            capacity *= 2;
        char *text = realloc(json->text, capacity);
        if (text == NULL) {
            json->failed = 1;
            return;
        }
        json->text = text;
        json->capacity = capacity;
    }
    memcpy(json->text + json->length, data, size);
    json->length += size;
    json->text[json->length] = '\0';
}

static void append_str(mcm_json *json, const char *s)
{
    append(json, s, strlen(s));
}

static void newline(mcm_json *json)
{
    append_str(json, "\n");
    for (int i = 0; i < json->depth; i++)
        append_str(json, "  ");
}

/* Before a value: a comma and a new line unless it follows a key or opens a container. */
static void before_value(mcm_json *json)
{
    if (json->after_key) {
        json->after_key = 0;
        return;
    }
    if (json->depth == 0)
        return;
    if (!json->first[json->depth])
        append_str(json, ",");
    json->first[json->depth] = 0;
    newline(json);
}

static void open_container(mcm_json *json, const char *bracket)
{
    before_value(json);
    append_str(json, bracket);
    if (json->depth + 1 >= MCM_JSON_MAX_DEPTH) {
        json->failed = 1;
        return;
    }
    json->depth++;
    json->first[json->depth] = 1;
}

static void close_container(mcm_json *json, const char *bracket)
{
    if (json->depth == 0) {
        json->failed = 1;
        return;
    }
    int empty = json->first[json->depth];
    json->depth--;
    if (!empty)
        newline(json);
    append_str(json, bracket);
}

void mcm_json_begin_object(mcm_json *json)
{
    open_container(json, "{");
}

void mcm_json_end_object(mcm_json *json)
{
    close_container(json, "}");
}

void mcm_json_begin_array(mcm_json *json)
{
    open_container(json, "[");
}

void mcm_json_end_array(mcm_json *json)
{
    close_container(json, "]");
}

static void quoted(mcm_json *json, const char *value)
{
    append_str(json, "\"");
    for (const unsigned char *p = (const unsigned char *)value; *p != '\0'; p++) {
        char escape[8];
        switch (*p) {
        case '"': append_str(json, "\\\""); break;
        case '\\': append_str(json, "\\\\"); break;
        case '\n': append_str(json, "\\n"); break;
        case '\r': append_str(json, "\\r"); break;
        case '\t': append_str(json, "\\t"); break;
        default:
            if (*p < 0x20) {
                snprintf(escape, sizeof escape, "\\u%04x", *p);
                append_str(json, escape);
            } else {
                append(json, (const char *)p, 1);
            }
        }
    }
    append_str(json, "\"");
}

void mcm_json_key(mcm_json *json, const char *key)
{
    before_value(json);
    quoted(json, key);
    append_str(json, ": ");
    json->after_key = 1;
}

void mcm_json_string(mcm_json *json, const char *value)
{
    if (value == NULL) {
        mcm_json_null(json);
        return;
    }
    before_value(json);
    quoted(json, value);
}

void mcm_json_int(mcm_json *json, int64_t value)
{
    char number[32];
    snprintf(number, sizeof number, "%" PRId64, value);
    before_value(json);
    append_str(json, number);
}

void mcm_json_bool(mcm_json *json, int value)
{
    before_value(json);
    append_str(json, value ? "true" : "false");
}

void mcm_json_null(mcm_json *json)
{
    before_value(json);
    append_str(json, "null");
}

void mcm_json_kv_string(mcm_json *json, const char *key, const char *value)
{
    mcm_json_key(json, key);
    mcm_json_string(json, value);
}

void mcm_json_kv_int(mcm_json *json, const char *key, int64_t value)
{
    mcm_json_key(json, key);
    mcm_json_int(json, value);
}

void mcm_json_kv_bool(mcm_json *json, const char *key, int value)
{
    mcm_json_key(json, key);
    mcm_json_bool(json, value);
}

const char *mcm_json_text(mcm_json *json)
{
    if (json->failed || json->depth != 0 || json->text == NULL)
        return NULL;
    if (json->length == 0 || json->text[json->length - 1] != '\n')
        append_str(json, "\n");
    return json->failed ? NULL : json->text;
}
