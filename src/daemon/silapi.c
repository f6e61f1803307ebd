/* silapi.c - the silence endpoints (silapi.h). */
#include "notifyd/silapi.h"

#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#include "notifyd/buf.h"
#include "notifyd/log.h"
#include "notifyd/server.h"
#include "notifyd/silstore.h"
#include "notifyd/util.h"

/* The largest answer of a list (a full store is far below it). */
#define LIST_MAX (UINT64_C(256) << 20)
#define PREFIX   "/api/v2/silence/"

/* Alertmanager answers errors as a JSON string. */
static void reply_err(struct nd_server_req *r, int code, const char *msg)
{
    struct nd_buf b;

    nd_buf_init(&b, 4096);
    nd_buf_add_json_string(&b, msg);
    nd_buf_addc(&b, '\n');
    nd_server_req_reply(r, code, NULL, b.data, b.len);
    nd_buf_deinit(&b);
}

static void reply_buf(struct nd_server_req *r, struct nd_buf *b)
{
    nd_buf_addc(b, '\n');
    nd_server_req_reply(r, 200, NULL, b->data, b->len);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent- and '+'-decodes q[0..n) into a new string. */
static char *query_decode(const char *q, size_t n)
{
    char *out = nd_xmalloc(n + 1), *o = out;

    for (size_t i = 0; i < n; i++) {
        if (q[i] == '+') {
            *o++ = ' ';
        } else if (q[i] == '%' && i + 2 < n && hexval(q[i + 1]) >= 0 && hexval(q[i + 2]) >= 0) {
            *o++ = (char)(hexval(q[i + 1]) * 16 + hexval(q[i + 2]));
            i += 2;
        } else {
            *o++ = q[i];
        }
    }
    *o = 0;
    return out;
}

/* GET /api/v2/silences[?filter=M&filter=M...]: other parameters are
 * ignored, as Alertmanager ignores them. */
static void h_list(void *ud, struct nd_server_req *r)
{
    struct nd_silstore *s = ud;
    struct nd_silstore_filter *f = NULL;
    const char *q = nd_server_req_query(r);
    char err[ND_ERRLEN];
    struct nd_buf b;

    while (*q) {
        const char *amp = strchr(q, '&'), *eq;
        size_t n = amp ? (size_t)(amp - q) : strlen(q);
        eq = memchr(q, '=', n);
        if (eq) {
            char *key = query_decode(q, (size_t)(eq - q));
            char *val = query_decode(eq + 1, n - (size_t)(eq - q) - 1);
            int rc = ND_OK;
            if (strcmp(key, "filter") == 0)
                rc = nd_silstore_filter_add(&f, val, err);
            free(key);
            free(val);
            if (rc != ND_OK) {
                nd_silstore_filter_free(f);
                reply_err(r, 400, err);
                return;
            }
        }
        q += n;
        if (*q == '&')
            q++;
    }
    nd_silstore_gc(s, nd_now_wall_ns());
    nd_buf_init(&b, (size_t)LIST_MAX);
    if (nd_silstore_list_json(s, f, false, nd_now_wall_ns(), &b) != ND_OK)
        reply_err(r, 500, "the list of silences is too large");
    else
        reply_buf(r, &b);
    nd_buf_deinit(&b);
    nd_silstore_filter_free(f);
}

static void h_post(void *ud, struct nd_server_req *r)
{
    struct nd_silstore *s = ud;
    char id[ND_SILSTORE_IDLEN], err[ND_ERRLEN];
    size_t len;
    const char *body = nd_server_req_body(r, &len);
    int rc = nd_silstore_post(s, body, len, nd_now_wall_ns(), id, err);

    if (rc == ND_OK) {
        struct nd_buf b;
        nd_log(ND_LOG_INFO, "silence set", "id", id, NULL);
        nd_buf_init(&b, 256);
        nd_buf_printf(&b, "{\"silenceID\":\"%s\"}\n", id);
        nd_server_req_reply(r, 200, NULL, b.data, b.len);
        nd_buf_deinit(&b);
        return;
    }
    if (rc == ND_ERR)
        nd_log(ND_LOG_ERROR, "silence not saved", "err", err, NULL);
    reply_err(r, rc == ND_SILSTORE_ENOTFOUND ? 404 : rc == ND_ERR ? 500 : 400, err);
}

static const char *path_id(struct nd_server_req *r)
{
    const char *id = nd_server_req_path(r) + strlen(PREFIX);
    return *id && !strchr(id, '/') ? id : NULL;
}

static void h_get(void *ud, struct nd_server_req *r)
{
    const char *id = path_id(r);
    struct nd_buf b;

    if (!id) {
        reply_err(r, 404, "silence not found");
        return;
    }
    nd_buf_init(&b, 1u << 24);
    if (nd_silstore_get_json(ud, id, nd_now_wall_ns(), &b) == ND_OK)
        reply_buf(r, &b);
    else
        reply_err(r, 404, "silence not found");
    nd_buf_deinit(&b);
}

static void h_delete(void *ud, struct nd_server_req *r)
{
    const char *id = path_id(r);
    char err[ND_ERRLEN];
    int rc;

    if (!id) {
        reply_err(r, 404, "silence not found");
        return;
    }
    rc = nd_silstore_expire(ud, id, nd_now_wall_ns(), err);
    if (rc == ND_OK) {
        nd_log(ND_LOG_INFO, "silence expired", "id", id, NULL);
        nd_server_req_reply(r, 200, NULL, "", 0);
        return;
    }
    if (rc == ND_ERR)
        nd_log(ND_LOG_ERROR, "silence not saved", "err", err, NULL);
    reply_err(r, rc == ND_SILSTORE_ENOTFOUND ? 404 : rc == ND_ERR ? 500 : 400, err);
}

size_t nd_silapi_routes(struct nd_silstore *s, struct nd_server_route *out, size_t max)
{
    const struct nd_server_route rt[ND_SILAPI_NROUTES] = {
        {"GET", "/api/v2/silences", h_list, s},
        {"POST", "/api/v2/silences", h_post, s},
        {"GET", PREFIX, h_get, s},
        {"DELETE", PREFIX, h_delete, s},
    };
    size_t n = max < ND_SILAPI_NROUTES ? max : ND_SILAPI_NROUTES;

    memcpy(out, rt, n * sizeof *rt);
    return n;
}

void nd_silapi_render_metrics(struct nd_silstore *s, struct evbuffer *out)
{
    size_t p, a, e;

    nd_silstore_counts(s, nd_now_wall_ns(), &p, &a, &e);
    evbuffer_add_printf(out,
                        "# HELP notifyd_silences API silences by state.\n"
                        "# TYPE notifyd_silences gauge\n"
                        "notifyd_silences{state=\"active\"} %zu\n"
                        "notifyd_silences{state=\"pending\"} %zu\n"
                        "notifyd_silences{state=\"expired\"} %zu\n",
                        a, p, e);
}
