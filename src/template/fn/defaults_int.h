/* defaults_int.h - the default templates compiled into the binary.
 * Internal to the template layer (nd_template_set_add_defaults uses them).
 *
 * Each entry is one file of src/template/defaults/ (name = file name), whose
 * text holds {{ define }} blocks in Go template syntax: nm.default.message,
 * nm.default.message.cn, nm.default.subject, nm.subject, nm.default.text,
 * nm.default.markdown, nm.default.html, nm.html, nm.feishu.message,
 * nm.feishu.post, nm.feishu.text. The engine parses them first, in this
 * order, so that user template files can override any definition.
 */
#ifndef NOTIFYD_TMPL_DEFAULTS_INT_H
#define NOTIFYD_TMPL_DEFAULTS_INT_H

#include <stddef.h>

struct nd_tmpl_builtin {
    const char *name; /* file name, e.g. "nm.default.tmpl" */
    const char *text;
};

extern const struct nd_tmpl_builtin nd_tmpl_builtins[];
extern const size_t nd_tmpl_nbuiltins;

#endif
