/* html.c - the HTML mode (a subset of Go's html/template) for email.
 *
 * Go escapes statically: it walks the tree, computes the HTML context at
 * every action and inserts escaping functions. We compute the same context
 * dynamically instead: the template's literal text is fed through a small
 * HTML state machine as it is written, and each printed value is escaped
 * for the state at that point. For templates whose branches end in the same
 * context (Go rejects the others) both give the same bytes.
 *
 * Covered: text (htmlEscaper), comments (stripped, actions inside print
 * nothing), attribute values quoted and unquoted (attrEscaper,
 * htmlNospaceEscaper), URL attributes (urlFilter, urlNormalizer,
 * urlEscaper by URL part), template.HTML (safeHtml: verbatim in text, tags
 * stripped in attributes), the predefined escapers html and urlquery at the
 * end of a pipeline, and html/template's printing of nil as "".
 * Not covered (printed with the text escaper): JavaScript and CSS contexts
 * (<script>, <style>, on* and style attributes), srcset, and Go's
 * static errors (ambiguous URL parts, branches ending in different
 * contexts, predefined escapers in the middle of a pipeline).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tmpl_int.h"

enum hstate {
    HS_TEXT = 0,
    HS_TAG,        /* inside a tag, between attributes */
    HS_ATTR_NAME,  /* in an attribute name */
    HS_AFTER_NAME, /* after a name, before '=' or the next attribute */
    HS_BEFORE_VAL, /* after '=' */
    HS_ATTR_VAL,   /* in a value; quote says how it ends */
    HS_COMMENT,    /* in <!-- --> */
    HS_TAG_NAME,   /* reading the element name after '<' */
};

static bool is_url_attr(const char *name, size_t n)
{
    static const char *const url_attrs[] = {
        "action", "archive",    "background", "cite",   "classid",  "codebase",
        "data",   "formaction", "href",       "icon",   "longdesc", "manifest",
        "poster", "profile",    "src",        "usemap", "xmlns"};
    char a[64];
    if (n >= sizeof a)
        n = sizeof a - 1;
    for (size_t i = 0; i < n; i++)
        a[i] = (char)tolower((unsigned char)name[i]);
    a[n] = '\0';
    const char *p = a;
    if (strncmp(p, "data-", 5) == 0)
        p += 5;
    else if (strncmp(p, "xmlns:", 6) == 0)
        return true;
    for (size_t i = 0; i < ND_ARRAY_LEN(url_attrs); i++)
        if (strcmp(p, url_attrs[i]) == 0)
            return true;
    return strstr(p, "src") || strstr(p, "uri") || strstr(p, "url");
}

enum { EMIT, SKIP, EMIT_LT };

/* Advances the state over one byte of template text and says what to write:
 * the byte, nothing (comments), or "&lt;" for a '<' that starts no tag (Go
 * escapes those in the template's own text). */
static int step(struct texec *x, const char *s, size_t n, size_t *i)
{
    struct thtml *h = &x->html;
    char c = s[*i];
    switch (h->state) {
    case HS_TEXT:
        if (c == '<') {
            if (n - *i >= 4 && memcmp(s + *i, "<!--", 4) == 0) {
                h->state = HS_COMMENT;
                *i += 3;
                return SKIP;
            }
            size_t j = *i + 1;
            if (j < n && s[j] == '/')
                j++;
            if (j < n && isalpha((unsigned char)s[j])) {
                h->state = HS_TAG_NAME;
                return EMIT;
            }
            if (n - *i >= 9 && strncasecmp(s + *i, "<!doctype", 9) == 0)
                return EMIT;
            return EMIT_LT;
        }
        return EMIT;
    case HS_COMMENT:
        if (n - *i >= 3 && memcmp(s + *i, "-->", 3) == 0) {
            h->state = HS_TEXT;
            *i += 2;
        }
        return SKIP;
    case HS_TAG_NAME:
        if (isspace((unsigned char)c))
            h->state = HS_TAG;
        else if (c == '>')
            h->state = HS_TEXT;
        return EMIT;
    case HS_TAG:
        if (c == '>') {
            h->state = HS_TEXT;
        } else if (!isspace((unsigned char)c) && c != '/') {
            h->state = HS_ATTR_NAME;
            h->namelen = 0;
            h->name[h->namelen++] = c;
        }
        return EMIT;
    case HS_ATTR_NAME:
        if (c == '=') {
            h->state = HS_BEFORE_VAL;
        } else if (isspace((unsigned char)c)) {
            h->state = HS_AFTER_NAME;
        } else if (c == '>') {
            h->state = HS_TEXT;
        } else if (h->namelen < sizeof h->name - 1) {
            h->name[h->namelen++] = c;
        }
        return EMIT;
    case HS_AFTER_NAME:
        if (c == '=') {
            h->state = HS_BEFORE_VAL;
        } else if (c == '>') {
            h->state = HS_TEXT;
        } else if (!isspace((unsigned char)c)) {
            h->state = HS_ATTR_NAME;
            h->namelen = 0;
            h->name[h->namelen++] = c;
        }
        return EMIT;
    case HS_BEFORE_VAL:
        if (isspace((unsigned char)c))
            return EMIT;
        h->url = is_url_attr(h->name, h->namelen);
        h->url_part = 0;
        h->state = HS_ATTR_VAL;
        if (c == '"' || c == '\'') {
            h->quote = c;
            return EMIT;
        }
        h->quote = 0;
        if (c == '>') {
            h->state = HS_TEXT;
            return EMIT;
        }
        break; /* the first byte of an unquoted value */
    case HS_ATTR_VAL:
        break;
    }
    /* in an attribute value */
    if ((h->quote && c == h->quote) || (!h->quote && (isspace((unsigned char)c) || c == '>'))) {
        h->state = c == '>' ? HS_TEXT : HS_TAG;
        return EMIT;
    }
    if (h->url) {
        if (c == '?' || c == '#')
            h->url_part = 2;
        else if (h->url_part == 0 && !isspace((unsigned char)c))
            h->url_part = 1;
    }
    return EMIT;
}

void nd_tmpl__html_text(struct texec *x, const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        size_t at = i;
        int what = step(x, s, n, &i);
        if (what != EMIT) {
            if (at > start)
                nd_tmpl__exec_add(x, x->out, s + start, at - start);
            if (what == EMIT_LT)
                nd_tmpl__exec_add(x, x->out, "&lt;", 4);
            start = i + 1;
        }
    }
    if (n > start)
        nd_tmpl__exec_add(x, x->out, s + start, n - start);
}

/* htmlReplacer over one of Go's tables. */
enum htable { HT_HTML, HT_HTML_NORM, HT_NOSPACE, HT_NOSPACE_NORM };

static void html_replace(struct tout *o, const char *s, size_t n, enum htable t)
{
    bool nospace = t == HT_NOSPACE || t == HT_NOSPACE_NORM;
    bool norm = t == HT_HTML_NORM || t == HT_NOSPACE_NORM;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *r = NULL;
        switch (c) {
        case 0:
            r = nospace ? "&#xfffd;" : "\xEF\xBF\xBD";
            break;
        case '"':
            r = "&#34;";
            break;
        case '&':
            r = norm ? NULL : "&amp;";
            break;
        case '\'':
            r = "&#39;";
            break;
        case '+':
            r = "&#43;";
            break;
        case '<':
            r = "&lt;";
            break;
        case '>':
            r = "&gt;";
            break;
        case '\t':
            r = nospace ? "&#9;" : NULL;
            break;
        case '\n':
            r = nospace ? "&#10;" : NULL;
            break;
        case '\v':
            r = nospace ? "&#11;" : NULL;
            break;
        case '\f':
            r = nospace ? "&#12;" : NULL;
            break;
        case '\r':
            r = nospace ? "&#13;" : NULL;
            break;
        case ' ':
            r = nospace ? "&#32;" : NULL;
            break;
        case '=':
            r = nospace ? "&#61;" : NULL;
            break;
        case '`':
            r = nospace ? "&#96;" : NULL;
            break;
        }
        if (r)
            tout_adds(o, r);
        else
            tout_addc(o, (char)c);
    }
}

/* Go's stripTags, simplified: drops <...> runs of the HTML. */
static void strip_tags(struct tout *o, const char *s, size_t n)
{
    bool in = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!in && c == '<' && i + 1 < n &&
            (isalpha((unsigned char)s[i + 1]) || s[i + 1] == '/' || s[i + 1] == '!'))
            in = true;
        else if (in && c == '>')
            in = false;
        else if (!in)
            tout_addc(o, c);
    }
}

/* urlProcessor: percent-encodes what may not stay (lower-case hex, as Go). */
static void url_process(struct tout *o, const char *s, size_t n, bool norm)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool keep;
        switch (c) {
        case '!':
        case '#':
        case '$':
        case '&':
        case '*':
        case '+':
        case ',':
        case '/':
        case ':':
        case ';':
        case '=':
        case '?':
        case '@':
        case '[':
        case ']':
        case '%':
            keep = norm;
            break;
        case '-':
        case '.':
        case '_':
        case '~':
            keep = true;
            break;
        default:
            keep = isalnum(c) != 0;
        }
        if (keep) {
            tout_addc(o, (char)c);
        } else {
            tout_addc(o, '%');
            tout_addc(o, hex[c >> 4]);
            tout_addc(o, hex[c & 15]);
        }
    }
}

/* urlFilter: only http, https and mailto schemes pass. */
static bool url_safe(const char *s, size_t n)
{
    const char *colon = memchr(s, ':', n);
    if (!colon)
        return true;
    if (memchr(s, '/', (size_t)(colon - s)))
        return true;
    size_t sl = (size_t)(colon - s);
    return (sl == 4 && strncasecmp(s, "http", 4) == 0) ||
           (sl == 5 && strncasecmp(s, "https", 5) == 0) ||
           (sl == 6 && strncasecmp(s, "mailto", 6) == 0);
}

static bool last_cmd_is(const struct tnode *action, const char *name)
{
    const struct tnode *pipe = action->u.br.pipe;
    if (!pipe || pipe->u.pipe.ncmds == 0)
        return false;
    const struct tnode *cmd = pipe->u.pipe.cmds[pipe->u.pipe.ncmds - 1];
    const struct tnode *a0 = cmd->u.cmd.args[0];
    return a0->kind == N_IDENT && strcmp(a0->u.fn.name, name) == 0;
}

void nd_tmpl__html_value(struct texec *x, const struct tnode *action, const struct tv *v)
{
    struct thtml *h = &x->html;
    if (h->state == HS_COMMENT)
        return; /* commentEscaper: nothing */
    /* stringify: one string or HTML value as is; nil skipped; else Sprint.
     * The buffers belong to the execution: printing the value reads its
     * fields, which may unwind. Every piece has the output's ceiling, and
     * the first failure (rc) fails the action. */
    struct nd_buf *s = nd_tmpl__exec_buf(x, x->out->limit);
    struct tout out = {nd_tmpl__exec_buf(x, x->out->limit), ND_OK};
    int rc = ND_OK;
    bool is_html = v->k == TK_STRING && v->t == &nd_tmpl__type_html;
    if (v->k == TK_STRING)
        rc = nd_buf_add(s, v->u.s.p, v->u.s.n);
    else if (v->k != TK_INVALID && v->k != TK_NIL)
        rc = nd_tmpl__val_print_action(x, s, v); /* pointers are dereferenced, as stringify does */
    const char *p = nd_buf_cstr(s);
    size_t n = s->len;
    bool html_done = last_cmd_is(action, "html");
    bool query_done = last_cmd_is(action, "urlquery");
    switch (h->state) {
    case HS_BEFORE_VAL:
        /* an action right after '=' is an unquoted value */
        h->url = is_url_attr(h->name, h->namelen);
        h->url_part = 0;
        h->quote = 0;
        h->state = HS_ATTR_VAL;
        /* fallthrough */
    case HS_ATTR_VAL: {
        struct tout u = {nd_tmpl__exec_buf(x, x->out->limit), ND_OK};
        if (h->url && !(query_done && h->url_part == 2)) {
            if (h->url_part == 0 && !url_safe(p, n)) {
                tout_adds(&u, "#ZgotmplZ");
            } else if (h->url_part == 2) {
                url_process(&u, p, n, false);
            } else {
                url_process(&u, p, n, true);
            }
            p = nd_buf_cstr(u.b);
            n = u.b->len;
            is_html = false;
        }
        if (!h->quote) {
            if (is_html) {
                struct tout t = {nd_tmpl__exec_buf(x, x->out->limit), ND_OK};
                strip_tags(&t, p, n);
                html_replace(&out, nd_buf_cstr(t.b), t.b->len, HT_NOSPACE_NORM);
                if (t.rc)
                    rc = t.rc;
                nd_tmpl__exec_buf_free(x, t.b);
            } else {
                html_replace(&out, p, n, HT_NOSPACE);
            }
        } else if (is_html) {
            struct tout t = {nd_tmpl__exec_buf(x, x->out->limit), ND_OK};
            strip_tags(&t, p, n);
            html_replace(&out, nd_buf_cstr(t.b), t.b->len, HT_HTML_NORM);
            if (t.rc)
                rc = t.rc;
            nd_tmpl__exec_buf_free(x, t.b);
        } else if (html_done && !h->url) {
            tout_add(&out, p, n);
        } else {
            html_replace(&out, p, n, HT_HTML);
        }
        if (u.rc)
            rc = u.rc;
        nd_tmpl__exec_buf_free(x, u.b);
        break;
    }
    default:
        if (is_html || html_done)
            tout_add(&out, p, n);
        else
            html_replace(&out, p, n, HT_HTML);
    }
    nd_tmpl__exec_buf_free(x, s);
    if (rc == ND_OK)
        rc = out.rc;
    if (rc == ND_OK)
        rc = nd_buf_add(x->out, nd_buf_cstr(out.b), out.b->len);
    nd_tmpl__exec_buf_free(x, out.b);
    if (rc != ND_OK)
        nd_tmpl__exec_limit_error(x, x->out->limit);
}
