/* silstore.c - run-time silences, Alertmanager's v2 API model (silstore.h).
 *
 * Silences are heap objects held by pointer, so that a change can be undone
 * when the file cannot be written: the array is edited, the file written,
 * and on failure the saved pointers and fields are put back.
 */
#include "notifyd/silstore.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yajl/yajl_tree.h>

#include "notifyd/alert.h"
#include "notifyd/json.h"
#include "notifyd/regex.h"
#include "notifyd/time.h"

/* Nesting refused before yajl's tree (whose free recurses) sees it. */
#define MAX_DEPTH 16

struct matcher {
    char *name;
    char *value;
    bool is_regex;
    bool is_equal;
    struct nd_re *re; /* is_regex only */
};

struct sil {
    char id[ND_SILSTORE_IDLEN];
    struct matcher *m;
    size_t nm;
    int64_t starts_ns, ends_ns, updated_ns;
    char *created_by;
    char *comment;
};

struct nd_silstore_filter {
    struct matcher *m;
    size_t nm;
};

struct nd_silstore {
    char *path; /* NULL = memory only */
    int64_t retention_ns;
    size_t max, max_matchers, max_size;
    struct sil **v;
    size_t n;
    struct sil **act; /* active as of the last begin; capacity max */
    size_t nact;
};

enum state { ST_ACTIVE, ST_PENDING, ST_EXPIRED };

static const char *const state_names[] = {"active", "pending", "expired"};

static enum state sil_state(const struct sil *s, int64_t now)
{
    if (now < s->starts_ns)
        return ST_PENDING;
    if (now >= s->ends_ns)
        return ST_EXPIRED;
    return ST_ACTIVE;
}

/* ---- matchers ---------------------------------------------------------- */

static void matcher_deinit(struct matcher *m)
{
    free(m->name);
    free(m->value);
    nd_re_free(m->re);
}

static void sil_free(struct sil *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nm; i++)
        matcher_deinit(&s->m[i]);
    free(s->m);
    free(s->created_by);
    free(s->comment);
    free(s);
}

/* Whether the matcher matches the value v (NUL-terminated). A regex that
 * hits the match limit does not match. */
static bool matcher_matches(const struct matcher *m, const char *v)
{
    bool r;

    if (m->is_regex) {
        char err[ND_ERRLEN];
        int mt = 0;
        if (nd_re_full_match(m->re, v, strlen(v), &mt, err) != ND_OK)
            mt = 0;
        r = mt != 0;
    } else {
        r = strcmp(m->value, v) == 0;
    }
    return m->is_equal ? r : !r;
}

/* Compiles a regex matcher and checks the name; Alertmanager's messages. */
static int matcher_check(struct matcher *m, char err[ND_ERRLEN])
{
    char rerr[ND_ERRLEN];

    if (!m->name[0])
        return nd_seterr(err, ND_EINVAL, "invalid label name \"%s\"", m->name);
    if (m->is_regex && nd_re_compile(&m->re, m->value, strlen(m->value), rerr) != ND_OK)
        return nd_seterr(err, ND_EINVAL, "invalid regular expression \"%s\": %s", m->value, rerr);
    return ND_OK;
}

/* ---- JSON in ----------------------------------------------------------- */

static yajl_val member(yajl_val o, const char *k)
{
    for (size_t i = 0; i < o->u.object.len; i++)
        if (strcmp(o->u.object.keys[i], k) == 0)
            return o->u.object.values[i];
    return NULL;
}

/* Same idea as jsonr.c's scan: yajl_tree_parse reads a C string, takes '/'
 * as a comment and frees recursively. */
static int prescan(const char *s, size_t n, char err[ND_ERRLEN])
{
    size_t depth = 0;
    bool in_str = false;

    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '\0')
            return nd_seterr(err, ND_EINVAL, "NUL byte at offset %zu", i);
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == '"')
            in_str = true;
        else if (c == '{' || c == '[') {
            if (++depth > MAX_DEPTH)
                return nd_seterr(err, ND_EINVAL, "nesting deeper than %d at offset %zu", MAX_DEPTH,
                                 i);
        } else if ((c == '}' || c == ']') && depth)
            depth--;
        else if (c == '/')
            return nd_seterr(err, ND_EINVAL, "unexpected '/' at offset %zu", i);
    }
    return ND_OK;
}

static int parse_doc(const char *body, size_t len, yajl_val *out, char err[ND_ERRLEN])
{
    char yerr[ND_ERRLEN];
    char *text;

    if (prescan(body, len, err) != ND_OK)
        return ND_EINVAL;
    text = nd_xstrndup(body, len);
    yerr[0] = 0;
    *out = yajl_tree_parse(text, yerr, sizeof yerr);
    free(text);
    if (!*out) {
        /* yajl's message spans lines and pads its excerpt: one line, single blanks. */
        char *w = yerr;
        for (char *p = yerr; *p; p++) {
            char c = *p == '\n' || *p == '\t' ? ' ' : *p;
            if (c != ' ' || (w > yerr && w[-1] != ' '))
                *w++ = c;
        }
        while (w > yerr && w[-1] == ' ')
            w--;
        *w = 0;
        return nd_seterr(err, ND_EINVAL, "invalid JSON: %s", yerr[0] ? yerr : "parse error");
    }
    return ND_OK;
}

static int get_str(yajl_val o, const char *k, bool required, const char **out, char err[ND_ERRLEN])
{
    yajl_val v = member(o, k);

    *out = NULL;
    if (!v || YAJL_IS_NULL(v)) {
        if (required)
            return nd_seterr(err, ND_EINVAL, "%s in body is required", k);
        return ND_OK;
    }
    if (!YAJL_IS_STRING(v))
        return nd_seterr(err, ND_EINVAL, "%s in body must be of type string", k);
    *out = v->u.string;
    return ND_OK;
}

static int get_bool(yajl_val o, const char *k, bool dflt, bool *out, const char *what,
                    char err[ND_ERRLEN])
{
    yajl_val v = member(o, k);

    *out = dflt;
    if (!v || YAJL_IS_NULL(v))
        return ND_OK;
    if (!YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v))
        return nd_seterr(err, ND_EINVAL, "%s.%s in body must be of type boolean", what, k);
    *out = YAJL_IS_TRUE(v);
    return ND_OK;
}

static int get_time(yajl_val o, const char *k, bool required, int64_t *out, char err[ND_ERRLEN])
{
    const char *s;
    struct nd_time t;

    if (get_str(o, k, required, &s, err) != ND_OK)
        return ND_EINVAL;
    if (!s)
        return ND_OK;
    if (nd_time_parse_rfc3339(s, strlen(s), &t) != ND_OK)
        return nd_seterr(err, ND_EINVAL, "%s in body must be of type date-time: \"%s\"", k, s);
    if (nd_time_is_zero(&t))
        return nd_seterr(err, ND_EINVAL, "invalid silence: invalid zero %s timestamp",
                         strcmp(k, "startsAt") == 0 ? "start" : "end");
    /* What fits in int64 nanoseconds: years 1678 to 2262. */
    if (t.sec <= INT64_MIN / 1000000000 + 1 || t.sec >= INT64_MAX / 1000000000 - 1)
        return nd_seterr(err, ND_EINVAL, "%s in body is out of range: \"%s\"", k, s);
    *out = nd_time_unix_ns(&t);
    return ND_OK;
}

static bool id_valid(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n >= ND_SILSTORE_IDLEN)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f') ||
              (id[i] >= 'A' && id[i] <= 'F') || id[i] == '-'))
            return false;
    return true;
}

/* Reads one silence object. id_out gets the "id" member ("" when absent).
 * Validation is Alertmanager's validateSilence() plus the store's bounds. */
static int sil_from_json(const struct nd_silstore *s, yajl_val o, bool from_file, struct sil **out,
                         char err[ND_ERRLEN])
{
    const char *id, *cb, *cm;
    yajl_val ms;
    struct sil *x;
    size_t size = 0;
    bool all_empty = true;

    *out = NULL;
    if (!YAJL_IS_OBJECT(o))
        return nd_seterr(err, ND_EINVAL, "a silence must be a JSON object");
    if (get_str(o, "id", from_file, &id, err) != ND_OK)
        return ND_EINVAL;
    if (id && id[0] && !id_valid(id))
        return nd_seterr(err, ND_EINVAL, "id in body is not a silence ID: \"%.64s\"", id);
    ms = member(o, "matchers");
    if (!ms || YAJL_IS_NULL(ms))
        return nd_seterr(err, ND_EINVAL, "matchers in body is required");
    if (!YAJL_IS_ARRAY(ms))
        return nd_seterr(err, ND_EINVAL, "matchers in body must be of type array");
    if (get_str(o, "createdBy", true, &cb, err) != ND_OK ||
        get_str(o, "comment", true, &cm, err) != ND_OK)
        return ND_EINVAL;
    if (ms->u.array.len > s->max_matchers)
        return nd_seterr(err, ND_EINVAL,
                         "invalid silence: %zu matchers, more than max_silence_matchers (%zu)",
                         ms->u.array.len, s->max_matchers);

    x = nd_xcalloc(1, sizeof *x);
    if (id)
        snprintf(x->id, sizeof x->id, "%s", id);
    x->created_by = nd_xstrdup(cb);
    x->comment = nd_xstrdup(cm);
    size = strlen(cb) + strlen(cm);
    if (get_time(o, "startsAt", true, &x->starts_ns, err) != ND_OK ||
        get_time(o, "endsAt", true, &x->ends_ns, err) != ND_OK)
        goto fail;
    if (from_file && get_time(o, "updatedAt", false, &x->updated_ns, err) != ND_OK)
        goto fail;
    x->m = nd_xcalloc(ms->u.array.len ? ms->u.array.len : 1, sizeof *x->m);
    for (size_t i = 0; i < ms->u.array.len; i++) {
        yajl_val mo = ms->u.array.values[i];
        struct matcher *m = &x->m[i];
        const char *name, *value;
        char what[32], merr[ND_ERRLEN];

        snprintf(what, sizeof what, "matchers.%zu", i);
        if (!YAJL_IS_OBJECT(mo)) {
            nd_seterr(err, ND_EINVAL, "%s in body must be of type object", what);
            goto fail;
        }
        if (get_str(mo, "name", false, &name, merr) != ND_OK || !name ||
            get_str(mo, "value", false, &value, merr) != ND_OK || !value) {
            nd_seterr(err, ND_EINVAL, "%s.%s in body is required and must be a string", what,
                      !member(mo, "name") || !YAJL_IS_STRING(member(mo, "name")) ? "name"
                                                                                 : "value");
            goto fail;
        }
        if (get_bool(mo, "isRegex", false, &m->is_regex, what, err) != ND_OK ||
            get_bool(mo, "isEqual", true, &m->is_equal, what, err) != ND_OK)
            goto fail;
        if (!member(mo, "isRegex") && !from_file) {
            nd_seterr(err, ND_EINVAL, "%s.isRegex in body is required", what);
            goto fail;
        }
        m->name = nd_xstrdup(name);
        m->value = nd_xstrdup(value);
        x->nm++;
        size += strlen(name) + strlen(value);
        if (matcher_check(m, merr) != ND_OK) {
            nd_seterr(err, ND_EINVAL, "invalid silence: invalid label matcher %zu: %s", i, merr);
            goto fail;
        }
        all_empty = all_empty && matcher_matches(m, "");
    }
    if (x->nm == 0) {
        nd_seterr(err, ND_EINVAL, "invalid silence: at least one matcher required");
        goto fail;
    }
    if (all_empty) {
        nd_seterr(err, ND_EINVAL,
                  "invalid silence: at least one matcher must not match the empty string");
        goto fail;
    }
    if (x->ends_ns < x->starts_ns) {
        nd_seterr(err, ND_EINVAL, "invalid silence: end time must not be before start time");
        goto fail;
    }
    if (size > s->max_size) {
        nd_seterr(err, ND_EINVAL,
                  "invalid silence: %zu bytes of matchers, createdBy and comment, more than "
                  "max_silence_size (%zu)",
                  size, s->max_size);
        goto fail;
    }
    *out = x;
    return ND_OK;
fail:
    sil_free(x);
    return ND_EINVAL;
}

/* ---- JSON out ---------------------------------------------------------- */

static void put_time(struct nd_json *j, const char *k, int64_t ns)
{
    char buf[ND_TIME_MAXLEN];
    struct nd_time t = nd_time_from_unix_ns(ns);
    size_t n = nd_time_format_rfc3339(&t, buf);

    nd_json_key(j, k);
    nd_json_strn(j, buf, n);
}

static void sil_to_json(struct nd_json *j, const struct sil *x, int64_t now)
{
    nd_json_obj_open(j);
    nd_json_kstr(j, "id", x->id);
    nd_json_key(j, "status");
    nd_json_obj_open(j);
    nd_json_kstr(j, "state", state_names[sil_state(x, now)]);
    nd_json_obj_close(j);
    put_time(j, "updatedAt", x->updated_ns);
    nd_json_key(j, "matchers");
    nd_json_arr_open(j);
    for (size_t i = 0; i < x->nm; i++) {
        nd_json_obj_open(j);
        nd_json_kstr(j, "name", x->m[i].name);
        nd_json_kstr(j, "value", x->m[i].value);
        nd_json_kbool(j, "isRegex", x->m[i].is_regex);
        nd_json_kbool(j, "isEqual", x->m[i].is_equal);
        nd_json_obj_close(j);
    }
    nd_json_arr_close(j);
    put_time(j, "startsAt", x->starts_ns);
    put_time(j, "endsAt", x->ends_ns);
    nd_json_kstr(j, "createdBy", x->created_by);
    nd_json_kstr(j, "comment", x->comment);
    nd_json_obj_close(j);
}

/* ---- the file ---------------------------------------------------------- */

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Writes the whole set: temporary file next to the target, fsync, rename
 * over it, fsync of the directory so that the rename itself is durable. */
static int persist(struct nd_silstore *s, int64_t now, char err[ND_ERRLEN])
{
    struct nd_buf b;
    struct nd_json j;
    char *tmp, *dir, *slash;
    int fd, rc = ND_OK;

    if (!s->path)
        return ND_OK;
    nd_buf_init(&b, (size_t)ND_SILSTORE_MAX_FILE);
    nd_json_init(&j, &b, ND_JSON_NEWLINE);
    nd_json_arr_open(&j);
    for (size_t i = 0; i < s->n; i++)
        sil_to_json(&j, s->v[i], now);
    nd_json_arr_close(&j);
    if (nd_json_finish(&j, err) != ND_OK) {
        nd_buf_deinit(&b);
        return nd_seterr(err, ND_ERR, "silence_file %s: %s", s->path, err);
    }
    tmp = nd_xasprintf("%s.tmp", s->path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = nd_seterr(err, ND_ERR, "silence_file %s: cannot create %s: %s", s->path, tmp,
                       strerror(errno));
        goto out;
    }
    if (write_all(fd, b.data, b.len) != 0 || fsync(fd) != 0) {
        rc = nd_seterr(err, ND_ERR, "silence_file %s: cannot write %s: %s", s->path, tmp,
                       strerror(errno));
        close(fd);
        unlink(tmp);
        goto out;
    }
    close(fd);
    if (rename(tmp, s->path) != 0) {
        rc = nd_seterr(err, ND_ERR, "silence_file %s: cannot rename %s: %s", s->path, tmp,
                       strerror(errno));
        unlink(tmp);
        goto out;
    }
    dir = nd_xstrdup(s->path);
    slash = strrchr(dir, '/');
    if (!slash)
        strcpy(dir, ".");
    else if (slash == dir)
        dir[1] = 0;
    else
        *slash = 0;
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        if (fsync(fd) != 0)
            rc = nd_seterr(err, ND_ERR, "silence_file %s: cannot fsync directory %s: %s", s->path,
                           dir, strerror(errno));
        close(fd);
    }
    free(dir);
out:
    free(tmp);
    nd_buf_deinit(&b);
    return rc;
}

static int load(struct nd_silstore *s, int64_t now, char err[ND_ERRLEN])
{
    struct stat st;
    char *text;
    size_t len = 0;
    FILE *f;
    yajl_val root;
    char e[ND_ERRLEN];
    int rc = ND_OK;

    f = fopen(s->path, "rb");
    if (!f) {
        if (errno == ENOENT)
            return ND_OK;
        return nd_seterr(err, ND_ERR, "silence_file %s: %s", s->path, strerror(errno));
    }
    if (fstat(fileno(f), &st) != 0 || (uint64_t)st.st_size > ND_SILSTORE_MAX_FILE) {
        fclose(f);
        return nd_seterr(err, ND_ERR, "silence_file %s: larger than %llu bytes", s->path,
                         (unsigned long long)ND_SILSTORE_MAX_FILE);
    }
    text = nd_xmalloc((size_t)st.st_size + 1);
    len = fread(text, 1, (size_t)st.st_size, f);
    if (ferror(f)) {
        fclose(f);
        free(text);
        return nd_seterr(err, ND_ERR, "silence_file %s: read error", s->path);
    }
    fclose(f);
    if (parse_doc(text, len, &root, e) != ND_OK) {
        free(text);
        return nd_seterr(err, ND_ERR, "silence_file %s: %s", s->path, e);
    }
    free(text);
    if (!YAJL_IS_ARRAY(root)) {
        yajl_tree_free(root);
        return nd_seterr(err, ND_ERR, "silence_file %s: not a JSON array of silences", s->path);
    }
    if (root->u.array.len > s->max) {
        rc = nd_seterr(err, ND_ERR, "silence_file %s: %zu silences, more than max_silences (%zu)",
                       s->path, root->u.array.len, s->max);
        goto out;
    }
    for (size_t i = 0; i < root->u.array.len; i++) {
        struct sil *x;
        if (sil_from_json(s, root->u.array.values[i], true, &x, e) != ND_OK) {
            rc = nd_seterr(err, ND_ERR, "silence_file %s: silence %zu: %s", s->path, i, e);
            goto out;
        }
        if (!x->id[0]) {
            sil_free(x);
            rc = nd_seterr(err, ND_ERR, "silence_file %s: silence %zu: id is empty", s->path, i);
            goto out;
        }
        for (size_t k = 0; k < s->n; k++) {
            if (strcmp(s->v[k]->id, x->id) == 0) {
                rc = nd_seterr(err, ND_ERR, "silence_file %s: silence %zu: id %s given twice",
                               s->path, i, x->id);
                sil_free(x);
                goto out;
            }
        }
        s->v[s->n++] = x;
    }
    nd_silstore_gc(s, now);
out:
    yajl_tree_free(root);
    return rc;
}

/* ---- the store --------------------------------------------------------- */

int nd_silstore_new(const struct nd_silstore_opts *o, int64_t now_ns, struct nd_silstore **out,
                    char err[ND_ERRLEN])
{
    struct nd_silstore *s = nd_xcalloc(1, sizeof *s);

    *out = NULL;
    s->path = o->path && o->path[0] ? nd_xstrdup(o->path) : NULL;
    s->retention_ns = o->retention_ns > 0 ? o->retention_ns : ND_SILSTORE_DEFAULT_RETENTION_NS;
    s->max = o->max_silences ? o->max_silences : ND_SILSTORE_DEFAULT_MAX;
    s->max_matchers = o->max_matchers ? o->max_matchers : ND_SILSTORE_DEFAULT_MAX_MATCHERS;
    s->max_size = o->max_size ? o->max_size : ND_SILSTORE_DEFAULT_MAX_SIZE;
    s->v = nd_xcalloc(s->max, sizeof *s->v);
    s->act = nd_xcalloc(s->max, sizeof *s->act);
    if (s->path && load(s, now_ns, err) != ND_OK) {
        nd_silstore_free(s);
        return ND_ERR;
    }
    *out = s;
    return ND_OK;
}

void nd_silstore_free(struct nd_silstore *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        sil_free(s->v[i]);
    free(s->v);
    free(s->act);
    free(s->path);
    free(s);
}

size_t nd_silstore_count(const struct nd_silstore *s)
{
    return s->n;
}

static size_t find(const struct nd_silstore *s, const char *id)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i]->id, id) == 0)
            return i;
    return SIZE_MAX;
}

size_t nd_silstore_gc(struct nd_silstore *s, int64_t now_ns)
{
    size_t k = 0, n0 = s->n;

    for (size_t i = 0; i < s->n; i++) {
        struct sil *x = s->v[i];
        if (sil_state(x, now_ns) == ST_EXPIRED && now_ns - x->ends_ns >= s->retention_ns)
            sil_free(x);
        else
            s->v[k++] = x;
    }
    s->n = k;
    if (k != n0)
        s->nact = 0;
    return n0 - k;
}

static void new_id(char id[ND_SILSTORE_IDLEN])
{
    unsigned char r[16];
    size_t got = 0;

    while (got < sizeof r) {
        ssize_t n = getrandom(r + got, sizeof r - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            /* No kernel randomness: a clock-derived ID is still unique here. */
            uint64_t a = nd_hash_mix64((uint64_t)nd_now_wall_ns());
            uint64_t b = nd_hash_mix64((uint64_t)nd_now_mono_ns() ^ a);
            memcpy(r, &a, 8);
            memcpy(r + 8, &b, 8);
            break;
        }
        got += (size_t)n;
    }
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40); /* version 4 */
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(id, ND_SILSTORE_IDLEN,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0], r[1],
             r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14],
             r[15]);
}

static bool same_matchers(const struct sil *a, const struct sil *b)
{
    if (a->nm != b->nm)
        return false;
    for (size_t i = 0; i < a->nm; i++)
        if (strcmp(a->m[i].name, b->m[i].name) != 0 || strcmp(a->m[i].value, b->m[i].value) != 0 ||
            a->m[i].is_regex != b->m[i].is_regex || a->m[i].is_equal != b->m[i].is_equal)
            return false;
    return true;
}

/* Alertmanager's canUpdate(): what may change without a new ID. */
static bool can_update(const struct sil *prev, const struct sil *n, int64_t now)
{
    if (!same_matchers(prev, n))
        return false;
    switch (sil_state(prev, now)) {
    case ST_ACTIVE:
        return n->starts_ns == prev->starts_ns && n->ends_ns >= now;
    case ST_PENDING:
        return n->starts_ns >= now;
    case ST_EXPIRED:
        break;
    }
    return false;
}

int nd_silstore_post(struct nd_silstore *s, const char *body, size_t len, int64_t now_ns,
                     char id[ND_SILSTORE_IDLEN], char err[ND_ERRLEN])
{
    yajl_val root;
    struct sil *n, *prev = NULL, *evicted = NULL;
    size_t pi = SIZE_MAX, ei = SIZE_MAX;
    int64_t p_starts = 0, p_ends = 0, p_updated = 0;
    int rc;

    id[0] = 0;
    if (parse_doc(body, len, &root, err) != ND_OK)
        return ND_EINVAL;
    rc = sil_from_json(s, root, false, &n, err);
    yajl_tree_free(root);
    if (rc != ND_OK)
        return ND_EINVAL;
    /* The API handler's own checks come before validation in Alertmanager. */
    if (n->starts_ns >= n->ends_ns) {
        sil_free(n);
        return nd_seterr(err, ND_EINVAL,
                         "Failed to create silence: start time must be before end time");
    }
    if (n->ends_ns < now_ns) {
        sil_free(n);
        return nd_seterr(err, ND_EINVAL, "Failed to create silence: end time can't be in the past");
    }
    nd_silstore_gc(s, now_ns);
    if (n->id[0]) {
        pi = find(s, n->id);
        if (pi == SIZE_MAX) {
            sil_free(n);
            return nd_seterr(err, ND_SILSTORE_ENOTFOUND, "silence not found");
        }
        prev = s->v[pi];
    }
    n->updated_ns = now_ns;
    if (prev && can_update(prev, n, now_ns)) {
        s->v[pi] = n;
        s->nact = 0;
        if (persist(s, now_ns, err) != ND_OK) {
            s->v[pi] = prev;
            sil_free(n);
            return ND_ERR;
        }
        sil_free(prev);
        snprintf(id, ND_SILSTORE_IDLEN, "%s", n->id);
        return ND_OK;
    }
    /* A new silence: room first, from the expired silence that ended first. */
    if (s->n >= s->max) {
        for (size_t i = 0; i < s->n; i++) {
            if (i == pi || sil_state(s->v[i], now_ns) != ST_EXPIRED)
                continue;
            if (ei == SIZE_MAX || s->v[i]->ends_ns < s->v[ei]->ends_ns)
                ei = i;
        }
        if (ei == SIZE_MAX) {
            sil_free(n);
            return nd_seterr(err, ND_EINVAL,
                             "exceeded maximum number of silences: %zu (limit: %zu)", s->n, s->max);
        }
    }
    if (prev) {
        p_starts = prev->starts_ns;
        p_ends = prev->ends_ns;
        p_updated = prev->updated_ns;
        switch (sil_state(prev, now_ns)) {
        case ST_PENDING:
            prev->starts_ns = now_ns;
            prev->ends_ns = now_ns;
            prev->updated_ns = now_ns;
            break;
        case ST_ACTIVE:
            prev->ends_ns = now_ns;
            prev->updated_ns = now_ns;
            break;
        case ST_EXPIRED:
            break;
        }
    }
    if (ei != SIZE_MAX) {
        evicted = s->v[ei];
        s->v[ei] = n;
    } else {
        s->v[s->n++] = n;
    }
    new_id(n->id);
    if (n->starts_ns < now_ns)
        n->starts_ns = now_ns;
    s->nact = 0;
    if (persist(s, now_ns, err) != ND_OK) {
        if (evicted)
            s->v[ei] = evicted;
        else
            s->n--;
        sil_free(n);
        if (prev) {
            prev->starts_ns = p_starts;
            prev->ends_ns = p_ends;
            prev->updated_ns = p_updated;
        }
        return ND_ERR;
    }
    sil_free(evicted);
    snprintf(id, ND_SILSTORE_IDLEN, "%s", n->id);
    return ND_OK;
}

int nd_silstore_expire(struct nd_silstore *s, const char *id, int64_t now_ns, char err[ND_ERRLEN])
{
    size_t i = find(s, id);
    struct sil *x;
    int64_t starts, ends, updated;

    if (i == SIZE_MAX)
        return nd_seterr(err, ND_SILSTORE_ENOTFOUND, "silence not found");
    x = s->v[i];
    starts = x->starts_ns;
    ends = x->ends_ns;
    updated = x->updated_ns;
    switch (sil_state(x, now_ns)) {
    case ST_EXPIRED:
        return nd_seterr(err, ND_EINVAL, "silence %s already expired", id);
    case ST_PENDING:
        x->starts_ns = now_ns;
        x->ends_ns = now_ns;
        break;
    case ST_ACTIVE:
        x->ends_ns = now_ns;
        break;
    }
    x->updated_ns = now_ns;
    s->nact = 0;
    if (persist(s, now_ns, err) != ND_OK) {
        x->starts_ns = starts;
        x->ends_ns = ends;
        x->updated_ns = updated;
        return ND_ERR;
    }
    return ND_OK;
}

int nd_silstore_get_json(struct nd_silstore *s, const char *id, int64_t now_ns, struct nd_buf *out)
{
    size_t i = find(s, id);
    struct nd_json j;
    char err[ND_ERRLEN];

    if (i == SIZE_MAX)
        return ND_SILSTORE_ENOTFOUND;
    nd_json_init(&j, out, 0);
    sil_to_json(&j, s->v[i], now_ns);
    return nd_json_finish(&j, err);
}

/* ---- listing and filters ----------------------------------------------- */

static bool is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-' || (unsigned char)c >= 0x80;
}

static const char *skip_blank(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* One matcher at *pp: name op value, value quoted ("..." with \" \\ \n
 * escapes) or bare (up to ',' or '}'). */
static int parse_matcher(const char **pp, struct matcher *m, char err[ND_ERRLEN])
{
    const char *p = skip_blank(*pp), *q;
    struct nd_buf v;

    q = p;
    while (is_name_char(*q))
        q++;
    if (q == p)
        return nd_seterr(err, ND_EINVAL, "bad matcher \"%s\": expected a label name", *pp);
    m->name = nd_xstrndup(p, (size_t)(q - p));
    p = skip_blank(q);
    m->is_equal = true;
    if (p[0] == '=' && p[1] == '~') {
        m->is_regex = true;
        p += 2;
    } else if (p[0] == '!' && p[1] == '~') {
        m->is_regex = true;
        m->is_equal = false;
        p += 2;
    } else if (p[0] == '!' && p[1] == '=') {
        m->is_equal = false;
        p += 2;
    } else if (p[0] == '=') {
        p += 1;
    } else {
        return nd_seterr(err, ND_EINVAL, "bad matcher \"%s\": expected =, !=, =~ or !~", *pp);
    }
    p = skip_blank(p);
    nd_buf_init(&v, 1 << 16);
    if (*p == '"') {
        for (p++; *p && *p != '"'; p++) {
            char c = *p;
            if (c == '\\' && p[1]) {
                p++;
                c = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
            }
            if (nd_buf_addc(&v, c) != ND_OK)
                break;
        }
        if (*p != '"') {
            nd_buf_deinit(&v);
            return nd_seterr(err, ND_EINVAL, "bad matcher \"%s\": unterminated quoted value", *pp);
        }
        p++;
    } else {
        q = p;
        while (*q && *q != ',' && *q != '}')
            q++;
        while (q > p && (q[-1] == ' ' || q[-1] == '\t'))
            q--;
        nd_buf_add(&v, p, (size_t)(q - p));
        p = q;
    }
    nd_buf_addc(&v, 0);
    m->value = nd_buf_take(&v, NULL);
    *pp = skip_blank(p);
    return matcher_check(m, err);
}

int nd_silstore_filter_add(struct nd_silstore_filter **fp, const char *text, char err[ND_ERRLEN])
{
    struct nd_silstore_filter *f = *fp;
    const char *p = skip_blank(text);
    bool braces = false;

    if (!f)
        f = *fp = nd_xcalloc(1, sizeof *f);
    if (*p == '{') {
        braces = true;
        p = skip_blank(p + 1);
    }
    while (*p && *p != '}') {
        struct matcher m = {0};
        if (f->nm >= 64) {
            return nd_seterr(err, ND_EINVAL, "bad filter: more than 64 matchers");
        }
        if (parse_matcher(&p, &m, err) != ND_OK) {
            matcher_deinit(&m);
            return ND_EINVAL;
        }
        f->m = nd_xrealloc(f->m, (f->nm + 1) * sizeof *f->m);
        f->m[f->nm++] = m;
        if (*p == ',')
            p = skip_blank(p + 1);
        else if (*p && *p != '}')
            return nd_seterr(err, ND_EINVAL, "bad filter \"%s\": expected ',' at \"%s\"", text, p);
    }
    if (braces != (*p == '}') || (*p == '}' && *skip_blank(p + 1)))
        return nd_seterr(err, ND_EINVAL, "bad filter \"%s\": unbalanced braces", text);
    return ND_OK;
}

void nd_silstore_filter_free(struct nd_silstore_filter *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->nm; i++)
        matcher_deinit(&f->m[i]);
    free(f->m);
    free(f);
}

/* Alertmanager's CheckSilenceMatchesFilterLabels: the filter's matchers
 * are applied to the values of the silence's matchers of the same name. */
static bool filter_pass(const struct nd_silstore_filter *f, const struct sil *x)
{
    for (size_t i = 0; f && i < f->nm; i++) {
        const char *v = NULL;
        for (size_t k = 0; k < x->nm; k++)
            if (strcmp(x->m[k].name, f->m[i].name) == 0)
                v = x->m[k].value; /* the last one, as a map would keep */
        if (!v || !matcher_matches(&f->m[i], v))
            return false;
    }
    return true;
}

struct ranked {
    const struct sil *x;
    enum state st;
};

static int cmp_ranked(const void *pa, const void *pb)
{
    const struct ranked *a = pa, *b = pb;
    int64_t ka, kb;

    if (a->st != b->st)
        return (int)a->st - (int)b->st;
    switch (a->st) {
    case ST_ACTIVE:
        ka = a->x->ends_ns, kb = b->x->ends_ns;
        break;
    case ST_PENDING:
        ka = a->x->starts_ns, kb = b->x->starts_ns;
        break;
    default:
        ka = b->x->ends_ns, kb = a->x->ends_ns;
        break;
    }
    if (ka != kb)
        return ka < kb ? -1 : 1;
    return strcmp(a->x->id, b->x->id);
}

int nd_silstore_list_json(struct nd_silstore *s, const struct nd_silstore_filter *f,
                          bool active_only, int64_t now_ns, struct nd_buf *out)
{
    struct ranked *r = nd_xcalloc(s->n ? s->n : 1, sizeof *r);
    size_t k = 0;
    struct nd_json j;
    char err[ND_ERRLEN];
    int rc;

    for (size_t i = 0; i < s->n; i++) {
        enum state st = sil_state(s->v[i], now_ns);
        if ((active_only && st != ST_ACTIVE) || !filter_pass(f, s->v[i]))
            continue;
        r[k].x = s->v[i];
        r[k].st = st;
        k++;
    }
    if (k > 1)
        qsort(r, k, sizeof *r, cmp_ranked);
    nd_json_init(&j, out, 0);
    nd_json_arr_open(&j);
    for (size_t i = 0; i < k; i++)
        sil_to_json(&j, r[i].x, now_ns);
    nd_json_arr_close(&j);
    free(r);
    rc = nd_json_finish(&j, err);
    return rc == ND_OK ? ND_OK : ND_ETOOBIG;
}

/* ---- the silence stage -------------------------------------------------- */

size_t nd_silstore_begin(struct nd_silstore *s, int64_t now_ns)
{
    s->nact = 0;
    for (size_t i = 0; i < s->n; i++)
        if (sil_state(s->v[i], now_ns) == ST_ACTIVE)
            s->act[s->nact++] = s->v[i];
    return s->nact;
}

bool nd_silstore_mute(struct nd_silstore *s, const struct nd_alert *a)
{
    for (size_t i = 0; i < s->nact; i++) {
        const struct sil *x = s->act[i];
        size_t k;
        for (k = 0; k < x->nm; k++) {
            const char *v = nd_alert_label(a, x->m[k].name);
            if (!matcher_matches(&x->m[k], v ? v : ""))
                break;
        }
        if (k == x->nm)
            return true;
    }
    return false;
}

void nd_silstore_counts(const struct nd_silstore *s, int64_t now_ns, size_t *pending,
                        size_t *active, size_t *expired)
{
    size_t c[3] = {0, 0, 0};
    for (size_t i = 0; i < s->n; i++)
        c[sil_state(s->v[i], now_ns)]++;
    *active = c[ST_ACTIVE];
    *pending = c[ST_PENDING];
    *expired = c[ST_EXPIRED];
}
