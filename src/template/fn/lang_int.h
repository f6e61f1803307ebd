/* lang_int.h - language packs for the `translate` template function.
 * Internal to the template layer (the public side is
 * nd_template_set_load_language_file in template.h).
 *
 * As in Notification Manager: a set of dictionaries, one per language name;
 * words are lower-cased when added and looked up lower-cased; an unknown
 * language or word translates to itself. "English" is fixed to
 * {firing: FIRING, resolved: RESOLVED} and cannot be changed by a pack. A
 * built-in "zh-cn" pack covers NM's 36 words; user packs merge over it.
 *
 * User pack files are JSON, the shape of NM's YAML packs:
 *   [ {"name": "zh-cn", "dictionary": {"firing": "...", "namespace": "..."}}, ... ]
 * (a single object without the surrounding list is accepted too).
 */
#ifndef NOTIFYD_TMPL_LANG_INT_H
#define NOTIFYD_TMPL_LANG_INT_H

#include <stddef.h>

#include "notifyd/util.h"

#define ND_TMPL_LANG_DEFAULT "English"
/* Largest pack file read. */
#define ND_TMPL_LANG_MAX_FILE (1024 * 1024)

struct nd_tmpl_lang;

/* A set holding English and the built-in zh-cn pack. */
struct nd_tmpl_lang *nd_tmpl_lang_new(void);
void nd_tmpl_lang_free(struct nd_tmpl_lang *l);
/* Adds or replaces one word. Adding to English is ignored (NM discards
 * user English packs). */
void nd_tmpl_lang_add_word(struct nd_tmpl_lang *l, const char *language, const char *word,
                           size_t wlen, const char *translation, size_t tlen);
/* Loads a pack from JSON text; `source` names it in errors. On error
 * nothing of this text is added. */
int nd_tmpl_lang_load_json(struct nd_tmpl_lang *l, const char *text, size_t n, const char *source,
                           char err[ND_ERRLEN]);
int nd_tmpl_lang_load_file(struct nd_tmpl_lang *l, const char *path, char err[ND_ERRLEN]);
/* Whether a dictionary exists for the language. */
int nd_tmpl_lang_has(const struct nd_tmpl_lang *l, const char *language);
/* Number of words of a language (0 when unknown). */
size_t nd_tmpl_lang_nwords(const struct nd_tmpl_lang *l, const char *language);
/* translate: the translation of `key` in `language` (NULL or "" = English),
 * or `key` itself. The result stays valid until the set is changed or freed. */
const char *nd_tmpl_translate(const struct nd_tmpl_lang *l, const char *language, const char *key,
                              size_t klen, size_t *outlen);

#endif
