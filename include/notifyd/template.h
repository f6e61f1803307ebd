/* template.h - Go text/template-compatible templates over Notification
 * Manager's data model.
 *
 * A set holds named templates. nd_template_set_parse() compiles one source
 * (a file, a config string) into it: the text outside {{define}} becomes the
 * template named `name`, each {{define "x"}} becomes "x". A later parse may
 * redefine a name (NM's override of the defaults); within one source a name
 * may be defined once. Parse errors use Go's form
 * "template: NAME:LINE: message".
 *
 * Execution follows Go's semantics with Option("missingkey=zero"). Errors use
 * Go's form "template: NAME:LINE:COL: executing "NAME" at <node>: message".
 * Limits of our own (Go has none or larger ones): the {{template}} nesting
 * depth (ND_TEMPLATE_MAX_DEPTH; Go's maxExecDepth is 100000, which would
 * overflow a C stack), the memory of one execution (ND_TEMPLATE_MEM_LIMIT)
 * and the output (the limit of the caller's nd_buf).
 *
 * A set is immutable while it renders; renders do not modify it, so one set
 * can serve many renders (one at a time: the engine is single-threaded).
 */
#ifndef NOTIFYD_TEMPLATE_H
#define NOTIFYD_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "notifyd/buf.h"
#include "notifyd/notification.h"

#define ND_TEMPLATE_MAX_DEPTH 1000
#define ND_TEMPLATE_MEM_LIMIT (64u << 20)
/* Nesting of parentheses and control blocks in one source. */
#define ND_TEMPLATE_MAX_NEST 1000
/* C stack one execution may use (nesting times template depth): an
 * execution that would go deeper fails instead of overflowing the stack. */
#define ND_TEMPLATE_STACK_BUDGET (4u << 20)

struct nd_template_set;
struct nd_template_data;

struct nd_template_set *nd_template_set_new(void);
void nd_template_set_free(struct nd_template_set *s);
/* Compiles `text` (len bytes, may contain NULs) under `name`. On error the set
 * is unchanged. ND_OK or ND_EINVAL with err set. */
int nd_template_set_parse(struct nd_template_set *s, const char *name, const char *text, size_t len,
                          char *err);
/* Parses the whole file at `path` under its base name (as Go's ParseFiles). */
int nd_template_set_parse_file(struct nd_template_set *s, const char *path, char *err);
/* Where the last failed nd_template_set_parse(_file) found its error: the
 * line and the 1-based byte column in the source; 0 and 0 when unknown
 * (e.g. the file could not be read). */
void nd_template_set_error_pos(const struct nd_template_set *s, int *line, int *col);
/* Whether a language (built-in or from a loaded pack) is known. */
bool nd_template_set_has_language(const struct nd_template_set *s, const char *language);
/* True when a template of that name exists (possibly empty, as Go's Lookup). */
bool nd_template_set_lookup(const struct nd_template_set *s, const char *name);
/* The language the "translate"/"message" functions use (default English); copied. */
void nd_template_set_language(struct nd_template_set *s, const char *language);
/* Adds a user language pack (JSON, see docs/templates.md) to the set's dictionaries. */
int nd_template_set_load_language_file(struct nd_template_set *s, const char *path, char *err);
/* Parses the built-in default templates (nm.default.* ...; src/template/defaults):
 * call first, so that user files parsed after them override definitions. */
int nd_template_set_add_defaults(struct nd_template_set *s, char *err);

/* The set of a config's [template] section, compiled once at load: the
 * built-in defaults, then the language packs, then the template files in
 * order (a later definition overrides). NULL when something is wrong, with
 * every problem appended to `errs` as "CONFIG:LINE: [template] KEY: ...";
 * a template syntax error reads
 * "CONFIG:LINE: [template] files: TEMPLATE_FILE:LINE:COL: message". */
struct nd_config;
struct nd_config_errors;
struct nd_template_set *nd_template_set_from_config(const struct nd_config *c,
                                                    struct nd_config_errors *errs);
/* Validates a receiver's `template` value (a name, or a full invocation
 * {{ template "x" . }} whose every named template must exist). ND_OK, or
 * ND_EINVAL with a message naming the missing template in err. */
int nd_template_check_ref(const struct nd_template_set *s, const char *name_or_call, char *err);

/* Executes the template `name` against `data`, appending to `out` (whose
 * limit bounds the output: ND_ETOOBIG). ND_OK, or ND_EINVAL/ND_ETOOBIG with err
 * set. On error, `out` holds what was written before the error (as Go). */
int nd_template_execute(const struct nd_template_set *s, const char *name,
                        const struct nd_template_data *data, struct nd_buf *out, char *err);
/* Parses `text` as an anonymous template named `tname` on top of the set
 * (its {{define}}s are visible only to this render) and executes it. NM and
 * amtool use tname "", so errors read "template: :LINE:COL: ...". */
int nd_template_execute_text(const struct nd_template_set *s, const char *tname, const char *text,
                             size_t len, const struct nd_template_data *data, struct nd_buf *out,
                             char *err);
/* Text (text/template) or HTML (a subset of html/template's contextual
 * escaping, for email: see src/template/html.c for what it covers). */
enum nd_template_mode { ND_TEMPLATE_TEXT = 0, ND_TEMPLATE_HTML = 1 };
int nd_template_execute_text_mode(const struct nd_template_set *s, const char *tname,
                                  const char *text, size_t len, const struct nd_template_data *data,
                                  enum nd_template_mode mode, struct nd_buf *out, char *err);
/* NM's Text(): `name_or_call` is a template name or a full invocation
 * {{ template "x" . }} (NM's Transform); the result has trailing spaces,
 * \r and \n removed (NM's cleanSuffix). */
int nd_template_text(const struct nd_template_set *s, const char *name_or_call,
                     const struct nd_template_data *data, struct nd_buf *out, char *err);
/* NM's Html(): as nd_template_text, in HTML mode. */
int nd_template_html(const struct nd_template_set *s, const char *name_or_call,
                     const struct nd_template_data *data, struct nd_buf *out, char *err);
/* Writes NM's Transform(name) into out: the invocation to parse. ND_OK, or
 * ND_ETOOBIG when out's ceiling was hit. */
int nd_template_transform(const char *name_or_call, struct nd_buf *out);

/* The data a template sees (NM's *Data). */
/* From a notification: borrows nothing after return (strings are copied).
 * Alert labels include receiver=<name> as nd_notification_labels() gives
 * them; NotificationTime is now_ns in the local zone. */
struct nd_template_data *nd_template_data_from_notification(const struct nd_notification *n,
                                                            int64_t now_ns);
/* From an Alertmanager webhook payload (JSON). NULL with err on bad input. */
struct nd_template_data *nd_template_data_from_json(const char *json, size_t len, char *err);
void nd_template_data_free(struct nd_template_data *d);

/* `notifyd template render ...`: argv as main() gets it (argv[1] may be
 * "template"); the output is exactly the rendered bytes; errors go to `err`.
 * Returns the exit code: 0, 1 on a template/data error, 2 on a usage error. */
int nd_template_cli(int argc, char **argv, FILE *out, FILE *err);

#endif
