// path-lengths: the AS path lengths of announcements, as a histogram.
//
// A bgpmon module in C, built with clang for wasm32-wasi against the C
// bindings wit-bindgen generates from bgpmon:module@0.1.0 (world
// `analysis`), and made a component with the WASI preview1 reactor adapter.
//
// A path's length counts each AS of an AS_SEQUENCE, one for an AS_SET, and
// nothing for confederation segments (RFC 4271, 9.1.2.2).

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"

// The longest path length counted apart; longer ones share the last bucket.
#define MAX_LENGTH 64

static void dup(analysis_string_t *out, const char *text) { analysis_string_dup(out, text); }

static void option_spec(bgpmon_module_types_option_spec_t *spec, const char *name,
                        const char *description, bool required, const char *default_value) {
    dup(&spec->name, name);
    dup(&spec->description, description);
    spec->required = required;
    spec->default_value.is_some = default_value != NULL;
    if (default_value != NULL) {
        dup(&spec->default_value.val, default_value);
    }
}

void exports_analysis_info(analysis_module_info_t *ret) {
    dup(&ret->type_name, "path-lengths");
    dup(&ret->description, "Counts announcements by AS path length (a C module)");
    ret->kind = BGPMON_MODULE_TYPES_MODULE_KIND_TASK;
    ret->options.len = 2;
    ret->options.ptr = calloc(2, sizeof(bgpmon_module_types_option_spec_t));
    option_spec(&ret->options.ptr[0], "session", "the session to read", true, NULL);
    option_spec(&ret->options.ptr[1], "batch", "captures per read", false, "1000");
}

// The value of option `name`, as a NUL-terminated copy the caller frees.
static char *option(analysis_list_option_value_t *options, const char *name) {
    for (size_t i = 0; i < options->len; i++) {
        analysis_string_t *n = &options->ptr[i].name;
        if (n->len == strlen(name) && memcmp(n->ptr, name, n->len) == 0) {
            analysis_string_t *v = &options->ptr[i].value;
            char *copy = malloc(v->len + 1);
            memcpy(copy, v->ptr, v->len);
            copy[v->len] = '\0';
            return copy;
        }
    }
    return NULL;
}

// Fails the run with `kind: message` for a host error, as the Rust SDK does.
static bool fail_with_error(bgpmon_module_types_error_t *error, analysis_string_t *err) {
    static const char *const kinds[] = {"unknown id", "duplicate id", "unknown type",
                                        "invalid argument", "limit reached", "denied",
                                        "closed", "storage"};
    const char *kind = error->tag < 8 ? kinds[error->tag] : "error";
    // Every case carries one string, at the same place.
    analysis_string_t *message = &error->val.denied;
    size_t len = strlen(kind) + 2 + message->len;
    char *text = malloc(len + 1);
    snprintf(text, len + 1, "%s: %.*s", kind, (int)message->len, (const char *)message->ptr);
    analysis_string_dup_n(err, text, len);
    free(text);
    bgpmon_module_types_error_free(error);
    return false;
}

static bool fail(analysis_string_t *err, const char *text) {
    dup(err, text);
    return false;
}

static unsigned path_length(bgpmon_module_types_list_path_segment_t *path) {
    unsigned length = 0;
    for (size_t i = 0; i < path->len; i++) {
        bgpmon_module_types_path_segment_t *segment = &path->ptr[i];
        if (segment->tag == BGPMON_MODULE_TYPES_PATH_SEGMENT_SEQUENCE) {
            length += segment->val.sequence.len;
        } else if (segment->tag == BGPMON_MODULE_TYPES_PATH_SEGMENT_SET) {
            length += 1;
        }
    }
    return length;
}

static void field(analysis_tuple2_string_string_t *pair, const char *name, unsigned long value) {
    char text[24];
    snprintf(text, sizeof text, "%lu", value);
    dup(&pair->f0, name);
    dup(&pair->f1, text);
}

bool exports_analysis_run(analysis_list_option_value_t *options, analysis_run_result_t *ret,
                          analysis_string_t *err) {
    char *session_id = option(options, "session");
    char *batch_text = option(options, "batch");
    analysis_list_option_value_free(options);
    char *end = NULL;
    long batch = batch_text ? strtol(batch_text, &end, 10) : 0;
    bool batch_ok = batch_text && *batch_text && *end == '\0' && batch > 0 && batch <= 100000;
    free(batch_text);
    if (session_id == NULL || !batch_ok) {
        free(session_id);
        return fail(err, "option batch must be an integer from 1 to 100000");
    }

    analysis_string_t id;
    analysis_string_set(&id, session_id);
    bgpmon_module_sessions_own_session_t session;
    bgpmon_module_types_error_t error;
    bool opened = bgpmon_module_sessions_open_session(&id, &session, &error);
    free(session_id);
    if (!opened) {
        return fail_with_error(&error, err);
    }
    // Every list empty and every option none: all captures.
    bgpmon_module_types_capture_filter_t everything;
    memset(&everything, 0, sizeof everything);
    everything.prefix_scope = BGPMON_MODULE_TYPES_PREFIX_SCOPE_ADVERTISED;
    everything.kind = BGPMON_MODULE_TYPES_CAPTURE_KIND_ANY;
    bgpmon_module_sessions_own_capture_reader_t reader;
    bool reading = bgpmon_module_sessions_method_session_open_capture_reader(
        bgpmon_module_sessions_borrow_session(session), &everything, false, &reader, &error);
    if (!reading) {
        bgpmon_module_sessions_session_drop_own(session);
        return fail_with_error(&error, err);
    }

    unsigned long counts[MAX_LENGTH + 1] = {0};
    unsigned long captures = 0, announcements = 0, total_length = 0;
    unsigned longest = 0;
    for (;;) {
        bgpmon_module_streams_list_capture_t batch_read;
        if (!bgpmon_module_streams_method_capture_reader_read(
                bgpmon_module_streams_borrow_capture_reader(reader), (uint32_t)batch,
                &batch_read, &error)) {
            bgpmon_module_streams_capture_reader_drop_own(reader);
            bgpmon_module_sessions_session_drop_own(session);
            return fail_with_error(&error, err);
        }
        size_t n = batch_read.len;
        captures += n;
        for (size_t i = 0; i < n; i++) {
            bgpmon_module_types_capture_t *capture = &batch_read.ptr[i];
            if (capture->advertised.len == 0) {
                continue;
            }
            unsigned length = path_length(&capture->as_path);
            announcements++;
            total_length += length;
            if (length > longest) {
                longest = length;
            }
            counts[length < MAX_LENGTH ? length : MAX_LENGTH]++;
        }
        bgpmon_module_streams_list_capture_free(&batch_read);
        if (n == 0) {
            break;
        }
    }
    bgpmon_module_streams_capture_reader_drop_own(reader);
    bgpmon_module_sessions_session_drop_own(session);

    size_t buckets = 0;
    for (size_t length = 0; length <= MAX_LENGTH; length++) {
        buckets += counts[length] != 0;
    }
    ret->findings.len = buckets;
    ret->findings.ptr = calloc(buckets ? buckets : 1, sizeof(bgpmon_module_types_finding_t));
    size_t at = 0;
    for (size_t length = 0; length <= MAX_LENGTH; length++) {
        if (counts[length] == 0) {
            continue;
        }
        bgpmon_module_types_finding_t *finding = &ret->findings.ptr[at++];
        char summary[96];
        snprintf(summary, sizeof summary, "%s%zu ASes: %lu announcements",
                 length == MAX_LENGTH ? "at least " : "", length, counts[length]);
        dup(&finding->kind, "path-length");
        dup(&finding->summary, summary);
        finding->fields.len = 2;
        finding->fields.ptr = calloc(2, sizeof(analysis_tuple2_string_string_t));
        field(&finding->fields.ptr[0], "length", length);
        field(&finding->fields.ptr[1], "announcements", counts[length]);
    }
    char message[160];
    unsigned long hundredths = announcements ? total_length * 100 / announcements : 0;
    snprintf(message, sizeof message,
             "%lu captures, %lu announcements, mean path length %lu.%02lu, longest %u",
             captures, announcements, hundredths / 100, hundredths % 100, longest);
    dup(&ret->message, message);
    return true;
}
