/* lang.c - language packs: dictionaries per language, JSON pack files. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "notifyd/buf.h"
#include "fn_int.h"
#include "lang_int.h"

/* Our own translations of Notification Manager's word list (config/i18n
 * zh-cn, 31 words, and the 5 more of the helm chart). */
static const char *const zh_cn[][2] = {
    {"alert", "告警"},
    {"alerts", "告警"},
    {"firing", "触发中"},
    {"resolved", "已恢复"},
    {"alertname", "告警名称"},
    {"alerttype", "告警类型"},
    {"cluster", "集群"},
    {"namespace", "项目"},
    {"severity", "告警级别"},
    {"container", "容器"},
    {"pod", "容器组"},
    {"service", "服务"},
    {"deployment", "部署"},
    {"job", "任务"},
    {"daemonset", "守护进程集"},
    {"statefulset", "有状态副本集"},
    {"instance", "实例"},
    {"resource", "资源"},
    {"user", "用户"},
    {"verb", "操作"},
    {"group", "组"},
    {"requestreceivedtimestamp", "请求接收时间"},
    {"role", "角色"},
    {"host_ip", "主机地址"},
    {"node", "节点"},
    {"rule_id", "规则标识"},
    {"owner_kind", "所有者类型"},
    {"workload", "工作负载"},
    {"rule_group", "规则组"},
    {"rule_level", "规则级别"},
    {"name", "名称"},
    {"receiver", "接收者"},
    {"receiver_type", "接收者类型"},
    {"workload_type", "工作负载类型"},
    {"rule_type", "规则类型"},
    {"reason", "原因"},
};

struct word {
    char *key; /* lower-cased */
    size_t klen;
    char *value;
    size_t vlen;
};

struct dict {
    char *language;
    struct word *w; /* sorted by key (memcmp, then length) */
    size_t n, cap;
};

struct nd_tmpl_lang {
    struct dict *d;
    size_t n;
};

static int key_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c)
        return c;
    return alen < blen ? -1 : alen > blen;
}

static struct dict *dict_find(const struct nd_tmpl_lang *l, const char *language)
{
    size_t i;
    for (i = 0; i < l->n; i++)
        if (strcmp(l->d[i].language, language) == 0)
            return &l->d[i];
    return NULL;
}

static struct dict *dict_get(struct nd_tmpl_lang *l, const char *language)
{
    struct dict *d = dict_find(l, language);
    if (d)
        return d;
    l->d = nd_xrealloc(l->d, (l->n + 1) * sizeof(*l->d));
    d = &l->d[l->n++];
    memset(d, 0, sizeof(*d));
    d->language = nd_xstrdup(language);
    return d;
}

/* Binary search: the index of key, or where it would go (*found = 0). */
static size_t word_pos(const struct dict *d, const char *key, size_t klen, int *found)
{
    size_t lo = 0, hi = d->n;
    *found = 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = key_cmp(key, klen, d->w[mid].key, d->w[mid].klen);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

static void dict_put(struct dict *d, const char *key, size_t klen, const char *value, size_t vlen)
{
    int found;
    size_t pos = word_pos(d, key, klen, &found);
    struct word *w;

    if (found) {
        w = &d->w[pos];
        free(w->value);
    } else {
        if (d->n == d->cap) {
            d->cap = d->cap ? d->cap * 2 : 16;
            d->w = nd_xrealloc(d->w, d->cap * sizeof(*d->w));
        }
        memmove(&d->w[pos + 1], &d->w[pos], (d->n - pos) * sizeof(*d->w));
        d->n++;
        w = &d->w[pos];
        w->key = nd_xstrndup(key, klen);
        w->klen = klen;
    }
    w->value = nd_xstrndup(value, vlen);
    w->vlen = vlen;
}

/* Keys are stored as Go's strings.ToLower gives them. */
static void lower(struct nd_buf *b, const char *s, size_t n)
{
    nd_buf_reset(b);
    /* The buffer's limit is sized from n: lowering never more than
     * doubles... except that invalid bytes become 3-byte U+FFFD. */
    (void)nd_tmpl_to_lower(b, s, n);
}

void nd_tmpl_lang_add_word(struct nd_tmpl_lang *l, const char *language, const char *word,
                           size_t wlen, const char *translation, size_t tlen)
{
    struct nd_buf b;

    if (strcmp(language, ND_TMPL_LANG_DEFAULT) == 0)
        return;
    nd_buf_init(&b, wlen * 3 + 16);
    lower(&b, word, wlen);
    dict_put(dict_get(l, language), nd_buf_cstr(&b), b.len, translation, tlen);
    nd_buf_deinit(&b);
}

struct nd_tmpl_lang *nd_tmpl_lang_new(void)
{
    struct nd_tmpl_lang *l = nd_xcalloc(1, sizeof(*l));
    struct dict *en = dict_get(l, ND_TMPL_LANG_DEFAULT);
    size_t i;

    dict_put(en, "firing", 6, "FIRING", 6);
    dict_put(en, "resolved", 8, "RESOLVED", 8);
    for (i = 0; i < ND_ARRAY_LEN(zh_cn); i++)
        nd_tmpl_lang_add_word(l, "zh-cn", zh_cn[i][0], strlen(zh_cn[i][0]), zh_cn[i][1],
                              strlen(zh_cn[i][1]));
    return l;
}

void nd_tmpl_lang_free(struct nd_tmpl_lang *l)
{
    size_t i, j;

    if (!l)
        return;
    for (i = 0; i < l->n; i++) {
        for (j = 0; j < l->d[i].n; j++) {
            free(l->d[i].w[j].key);
            free(l->d[i].w[j].value);
        }
        free(l->d[i].w);
        free(l->d[i].language);
    }
    free(l->d);
    free(l);
}

int nd_tmpl_lang_has(const struct nd_tmpl_lang *l, const char *language)
{
    return dict_find(l, language) != NULL;
}

size_t nd_tmpl_lang_nwords(const struct nd_tmpl_lang *l, const char *language)
{
    const struct dict *d = dict_find(l, language);
    return d ? d->n : 0;
}

const char *nd_tmpl_translate(const struct nd_tmpl_lang *l, const char *language, const char *key,
                              size_t klen, size_t *outlen)
{
    const struct dict *d;
    const char *res = key;
    struct nd_buf b;
    int found;
    size_t pos;

    *outlen = klen;
    if (!language || !*language)
        language = ND_TMPL_LANG_DEFAULT;
    d = dict_find(l, language);
    if (!d || d->n == 0)
        return key;
    nd_buf_init(&b, klen * 3 + 16);
    lower(&b, key, klen);
    pos = word_pos(d, nd_buf_cstr(&b), b.len, &found);
    if (found) {
        res = d->w[pos].value;
        *outlen = d->w[pos].vlen;
    }
    nd_buf_deinit(&b);
    return res;
}

/* ------------------------------------------------------------- JSON packs */

enum pstate {
    P_TOP,       /* before anything */
    P_LIST,      /* in the top-level list, between packs */
    P_PACK,      /* in a pack object, expecting a key */
    P_NAME,      /* expecting the name's string */
    P_DICT_OPEN, /* expecting the dictionary's '{' */
    P_DICT,      /* in the dictionary, expecting a word */
    P_WORD,      /* expecting a translation */
    P_DONE,
};

struct pctx {
    enum pstate st;
    int in_list;
    char *name;          /* of the current pack */
    struct nd_buf words; /* "word\0translation\0" pairs of the current pack */
    char *word;
    size_t wlen;
    struct nd_buf all; /* finished packs: "lang\0word\0translation\0" */
    char msg[160];
};

static int perr(struct pctx *p, const char *m)
{
    snprintf(p->msg, sizeof(p->msg), "%s", m);
    return 0;
}

static int add_pair(struct nd_buf *b, const char *a, size_t alen, const char *c, size_t clen)
{
    if (memchr(a, '\0', alen) || memchr(c, '\0', clen))
        return ND_EINVAL;
    if (nd_buf_add(b, a, alen) || nd_buf_addc(b, '\0') || nd_buf_add(b, c, clen) ||
        nd_buf_addc(b, '\0'))
        return ND_ETOOBIG;
    return 0;
}

static int finish_pack(struct pctx *p)
{
    size_t off = 0;

    if (!p->name)
        return perr(p, "a language pack has no \"name\"");
    while (off < p->words.len) {
        const char *w = p->words.data + off;
        const char *t = w + strlen(w) + 1;
        if (nd_buf_adds(&p->all, p->name) || nd_buf_addc(&p->all, '\0') ||
            add_pair(&p->all, w, strlen(w), t, strlen(t)))
            return perr(p, "language pack too large");
        off = (size_t)(t + strlen(t) + 1 - p->words.data);
    }
    free(p->name);
    p->name = NULL;
    nd_buf_reset(&p->words);
    return 1;
}

static int cb_string(void *ctx, const unsigned char *s, size_t n)
{
    struct pctx *p = ctx;
    const char *v = (const char *)s;

    switch (p->st) {
    case P_NAME:
        if (n == 0 || memchr(v, '\0', n))
            return perr(p, "a language name must be a non-empty string");
        free(p->name);
        p->name = nd_xstrndup(v, n);
        p->st = P_PACK;
        return 1;
    case P_WORD: {
        int rc = add_pair(&p->words, p->word, p->wlen, v, n);
        free(p->word);
        p->word = NULL;
        if (rc)
            return perr(p, rc == ND_EINVAL ? "NUL byte in a word" : "language pack too large");
        p->st = P_DICT;
        return 1;
    }
    default:
        return perr(p, "unexpected string");
    }
}

static int cb_other(void *ctx)
{
    return perr(ctx, "words and names must be strings");
}

static int cb_bool(void *ctx, int b)
{
    ND_UNUSED(b);
    return cb_other(ctx);
}

static int cb_number(void *ctx, const char *s, size_t n)
{
    ND_UNUSED(s);
    ND_UNUSED(n);
    return cb_other(ctx);
}

static int cb_start_map(void *ctx)
{
    struct pctx *p = ctx;

    if (p->st == P_TOP || p->st == P_LIST) {
        p->st = P_PACK;
        return 1;
    }
    if (p->st == P_DICT_OPEN) {
        p->st = P_DICT;
        return 1;
    }
    return perr(p, "unexpected object");
}

static int cb_map_key(void *ctx, const unsigned char *s, size_t n)
{
    struct pctx *p = ctx;
    const char *k = (const char *)s;

    if (p->st == P_PACK) {
        if (n == 4 && memcmp(k, "name", 4) == 0) {
            p->st = P_NAME;
            return 1;
        }
        if (n == 10 && memcmp(k, "dictionary", 10) == 0) {
            p->st = P_DICT_OPEN;
            return 1;
        }
        return perr(p, "unknown key in a language pack (want \"name\" and \"dictionary\")");
    }
    if (p->st == P_DICT) {
        free(p->word);
        p->word = nd_xstrndup(k, n);
        p->wlen = n;
        p->st = P_WORD;
        return 1;
    }
    return perr(p, "unexpected key");
}

static int cb_end_map(void *ctx)
{
    struct pctx *p = ctx;

    if (p->st == P_DICT) {
        p->st = P_PACK;
        return 1;
    }
    if (p->st == P_PACK) {
        if (!finish_pack(p))
            return 0;
        p->st = p->in_list ? P_LIST : P_DONE;
        return 1;
    }
    return perr(p, "unexpected end of object");
}

static int cb_start_array(void *ctx)
{
    struct pctx *p = ctx;

    if (p->st != P_TOP)
        return perr(p, "unexpected list");
    p->in_list = 1;
    p->st = P_LIST;
    return 1;
}

static int cb_end_array(void *ctx)
{
    struct pctx *p = ctx;

    if (p->st != P_LIST)
        return perr(p, "unexpected end of list");
    p->st = P_DONE;
    return 1;
}

static const yajl_callbacks pack_callbacks = {
    .yajl_null = cb_other,
    .yajl_boolean = cb_bool,
    .yajl_number = cb_number,
    .yajl_string = cb_string,
    .yajl_start_map = cb_start_map,
    .yajl_map_key = cb_map_key,
    .yajl_end_map = cb_end_map,
    .yajl_start_array = cb_start_array,
    .yajl_end_array = cb_end_array,
};

int nd_tmpl_lang_load_json(struct nd_tmpl_lang *l, const char *text, size_t n, const char *source,
                           char err[ND_ERRLEN])
{
    struct pctx p;
    yajl_handle h;
    yajl_status st;
    int rc = ND_OK;

    memset(&p, 0, sizeof(p));
    nd_buf_init(&p.words, ND_TMPL_LANG_MAX_FILE * 2);
    nd_buf_init(&p.all, ND_TMPL_LANG_MAX_FILE * 4);
    h = yajl_alloc(&pack_callbacks, NULL, &p);
    if (!h) {
        fprintf(stderr, "notifyd: out of memory (yajl)\n");
        abort();
    }
    st = yajl_parse(h, (const unsigned char *)text, n);
    if (st == yajl_status_ok)
        st = yajl_complete_parse(h);
    if (st != yajl_status_ok) {
        if (p.msg[0]) {
            rc = nd_seterr(err, ND_EINVAL, "%s: %s", source, p.msg);
        } else {
            unsigned char *m = yajl_get_error(h, 0, (const unsigned char *)text, n);
            char *nl;
            char tmp[160];
            snprintf(tmp, sizeof(tmp), "%s", m ? (const char *)m : "invalid JSON");
            if ((nl = strchr(tmp, '\n')) != NULL)
                *nl = '\0';
            rc = nd_seterr(err, ND_EINVAL, "%s: %s", source, tmp);
            yajl_free_error(h, m);
        }
    } else if (p.st != P_DONE) {
        rc = nd_seterr(err, ND_EINVAL, "%s: empty language pack", source);
    }
    yajl_free(h);
    if (rc == ND_OK) {
        size_t off = 0;
        while (off < p.all.len) {
            const char *lang = p.all.data + off;
            const char *w = lang + strlen(lang) + 1;
            const char *t = w + strlen(w) + 1;
            nd_tmpl_lang_add_word(l, lang, w, strlen(w), t, strlen(t));
            off = (size_t)(t + strlen(t) + 1 - p.all.data);
        }
    }
    free(p.name);
    free(p.word);
    nd_buf_deinit(&p.words);
    nd_buf_deinit(&p.all);
    return rc;
}

int nd_tmpl_lang_load_file(struct nd_tmpl_lang *l, const char *path, char err[ND_ERRLEN])
{
    FILE *f = fopen(path, "rb");
    struct nd_buf b;
    char chunk[4096];
    size_t got;
    int rc = ND_OK;

    if (!f)
        return nd_seterr(err, ND_ERR, "%s: %s", path, strerror(errno));
    nd_buf_init(&b, ND_TMPL_LANG_MAX_FILE);
    while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (nd_buf_add(&b, chunk, got) != 0) {
            rc =
                nd_seterr(err, ND_ETOOBIG, "%s: larger than %d bytes", path, ND_TMPL_LANG_MAX_FILE);
            break;
        }
    }
    if (rc == ND_OK && ferror(f))
        rc = nd_seterr(err, ND_ERR, "%s: read error", path);
    fclose(f);
    if (rc == ND_OK)
        rc = nd_tmpl_lang_load_json(l, nd_buf_cstr(&b), b.len, path, err);
    nd_buf_deinit(&b);
    return rc;
}
