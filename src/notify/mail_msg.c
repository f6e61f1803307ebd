/* mail_msg.c - e-mail addresses and messages (mail_msg.h). */
#include "notifyd/mail_msg.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "notifyd/crypto.h"
#include "notifyd/parse.h"
#include "notifyd/util.h"

/* ---- addresses ---------------------------------------------------------- */

/* RFC 5322 atext. */
static bool is_atext(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* A quoted-string at s[0] (s[0] == '"'): its length with both quotes, or 0
 * when it is not closed within n. */
static size_t quoted_len(const char *s, size_t n)
{
    size_t i;

    for (i = 1; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n)
            i++;
        else if (s[i] == '"')
            return i + 1;
    }
    return 0;
}

static bool domain_label_ok(const char *s, size_t n)
{
    size_t i;

    if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
        return false;
    for (i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-'))
            return false;
    }
    return true;
}

static bool domain_ok(const char *s, size_t n)
{
    size_t start = 0, i;

    if (n == 0 || n > ND_MAIL_DOMAIN_MAX)
        return false;
    if (s[0] == '[') {
        char lit[64];
        unsigned char bin[16];

        if (s[n - 1] != ']' || n - 2 >= sizeof(lit))
            return false;
        memcpy(lit, s + 1, n - 2);
        lit[n - 2] = '\0';
        if (strncasecmp(lit, "IPv6:", 5) == 0)
            return inet_pton(AF_INET6, lit + 5, bin) == 1;
        return inet_pton(AF_INET, lit, bin) == 1;
    }
    for (i = 0; i <= n; i++) {
        if (i == n || s[i] == '.') {
            if (!domain_label_ok(s + start, i - start))
                return false;
            start = i + 1;
        }
    }
    return true;
}

int nd_mail_domain_valid(const char *s)
{
    return domain_ok(s, strlen(s));
}

/* Checks an addr-spec; NULL when fine, else why not. */
static const char *addr_spec_check(const char *s, size_t n)
{
    size_t local, i;

    if (n == 0)
        return "empty address";
    if (n > ND_MAIL_ADDR_MAX)
        return "address longer than 254 bytes";
    for (i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80)
            return "non-ASCII addresses are not supported";
    if (s[0] == '"') {
        local = quoted_len(s, n);
        if (local == 0)
            return "unclosed quote";
        for (i = 1; i + 1 < local; i++) {
            unsigned char c = (unsigned char)s[i];
            if (c < 0x20 || c == 0x7f || c == '<' || c == '>')
                return "bad character in the quoted local part";
        }
    } else {
        bool dot_ok = false;

        for (local = 0; local < n && s[local] != '@'; local++) {
            unsigned char c = (unsigned char)s[local];
            if (c == '.') {
                if (!dot_ok)
                    return "misplaced '.' in the local part";
                dot_ok = false;
            } else if (is_atext(c)) {
                dot_ok = true;
            } else {
                return "bad character in the local part";
            }
        }
        if (local > 0 && !dot_ok)
            return "misplaced '.' in the local part";
    }
    if (local == 0)
        return "empty local part";
    if (local >= n || s[local] != '@')
        return "want local@domain";
    if (local > ND_MAIL_LOCAL_MAX)
        return "local part longer than 64 bytes";
    if (!domain_ok(s + local + 1, n - local - 1))
        return "bad domain (want host name labels or an address literal)";
    return NULL;
}

/* A display name: one quoted-string, or words of atext, '.', blanks and
 * UTF-8. Heap text in *out (NULL for an empty one); NULL return when fine. */
static const char *display_name(const char *s, size_t n, char **out)
{
    size_t i;

    *out = NULL;
    while (n > 0 && is_blank(s[n - 1]))
        n--;
    while (n > 0 && is_blank(*s)) {
        s++;
        n--;
    }
    if (n == 0)
        return NULL;
    if (s[0] == '"') {
        size_t q = quoted_len(s, n);
        struct nd_buf b;

        if (q != n)
            return q == 0 ? "unclosed quote in the display name"
                          : "text after the quoted display name";
        nd_buf_init(&b, ND_MAIL_NAME_MAX);
        for (i = 1; i + 1 < n; i++) {
            unsigned char c = (unsigned char)s[i];

            if (c == '\\')
                c = (unsigned char)s[++i];
            if (c < 0x20 && c != '\t') {
                nd_buf_deinit(&b);
                return "control character in the display name";
            }
            if (nd_buf_addc(&b, (char)c) != ND_OK) {
                nd_buf_deinit(&b);
                return "display name longer than 256 bytes";
            }
        }
        *out = b.len ? nd_buf_take(&b, NULL) : NULL;
        nd_buf_deinit(&b);
        return NULL;
    }
    if (n > ND_MAIL_NAME_MAX)
        return "display name longer than 256 bytes";
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '(' || c == ')')
            return "comments are not supported";
        if (!(is_atext(c) || c == '.' || c == ' ' || c == '\t' || c >= 0x80))
            return "bad character in the display name (quote it)";
    }
    *out = nd_xstrndup(s, n);
    return NULL;
}

static const char *mailbox(const char *s, size_t n, struct nd_mail_addr *out)
{
    size_t i, lt = n;
    const char *why;

    memset(out, 0, sizeof(*out));
    for (i = 0; i < n; i++) {
        if (s[i] == '"') {
            size_t q = quoted_len(s + i, n - i);
            if (q == 0)
                return "unclosed quote";
            i += q - 1;
        } else if (s[i] == '<') {
            lt = i;
            break;
        }
    }
    if (lt == n) {
        /* Outside quotes and address literals, ':' and ';' mean a group. */
        for (i = 0; i < n; i++) {
            if (s[i] == '"') {
                size_t q = quoted_len(s + i, n - i);
                if (q == 0)
                    return "unclosed quote";
                i += q - 1;
            } else if (s[i] == '[') {
                while (i + 1 < n && s[i] != ']')
                    i++;
            } else if (s[i] == '(') {
                return "comments are not supported";
            } else if (s[i] == ':' || s[i] == ';') {
                return "groups are not supported";
            }
        }
        why = addr_spec_check(s, n);
        if (why)
            return why;
        out->addr = nd_xstrndup(s, n);
        return NULL;
    }
    if (s[n - 1] != '>')
        return "text after the closing '>'";
    why = addr_spec_check(s + lt + 1, n - lt - 2);
    if (why)
        return why;
    why = display_name(s, lt, &out->name);
    if (why)
        return why;
    out->addr = nd_xstrndup(s + lt + 1, n - lt - 2);
    return NULL;
}

int nd_mail_addrs_parse(const char *s, struct nd_mail_addrs *out, char *err)
{
    const char *p = s;

    while (*p) {
        const char *start, *end;
        struct nd_mail_addr a;
        const char *why;
        int depth = 0;

        while (is_blank(*p) || *p == ',')
            p++;
        if (!*p)
            break;
        start = p;
        while (*p && !((*p == ',' || *p == '\n') && depth == 0)) {
            if (*p == '"') {
                size_t q = quoted_len(p, strlen(p));
                if (q == 0)
                    return nd_seterr(err, ND_EINVAL, "\"%.80s\": unclosed quote", start);
                p += q;
                continue;
            }
            if (*p == '<')
                depth++;
            else if (*p == '>' && depth > 0)
                depth--;
            p++;
        }
        end = p;
        while (end > start && is_blank(end[-1]))
            end--;
        why = mailbox(start, (size_t)(end - start), &a);
        if (why)
            return nd_seterr(err, ND_EINVAL, "\"%.*s\": %s",
                             (int)(end - start > 80 ? 80 : end - start), start, why);
        out->v = nd_xrealloc(out->v, (out->n + 1) * sizeof(*out->v));
        out->v[out->n++] = a;
    }
    return ND_OK;
}

void nd_mail_addrs_deinit(struct nd_mail_addrs *a)
{
    size_t i;

    for (i = 0; i < a->n; i++) {
        free(a->v[i].name);
        free(a->v[i].addr);
    }
    free(a->v);
    a->v = NULL;
    a->n = 0;
}

const char *nd_mail_addr_domain(const char *addr)
{
    const char *at = strrchr(addr, '@');

    return at ? at + 1 : addr;
}

/* ---- header lines ------------------------------------------------------- */

/* A header line being written: the column counts octets since the last
 * CRLF. */
struct hdr {
    struct nd_buf *b;
    size_t col;
    int rc;
};

static void hdr_put(struct hdr *h, const char *s, size_t n)
{
    if (h->rc == ND_OK)
        h->rc = nd_buf_add(h->b, s, n);
    h->col += n;
}

static void hdr_fold(struct hdr *h)
{
    hdr_put(h, "\r\n", 2);
    h->col = 0;
}

/* A token preceded by one blank: the blank becomes a fold when the token
 * would pass the fold column on a line that already holds something. */
static void hdr_word(struct hdr *h, const char *s, size_t n)
{
    if (h->col + 1 + n > ND_MAIL_LINE_FOLD && h->col > 1)
        hdr_fold(h);
    hdr_put(h, " ", 1);
    hdr_put(h, s, n);
}

/* Bytes of the UTF-8 sequence starting at s[0] (at most n); an invalid
 * byte counts alone. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t want, i;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        want = 2;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        want = 3;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        want = 4;
    else
        return 1;
    if (want > n)
        return 1;
    for (i = 1; i < want; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 1;
    return want;
}

#define EW_OPEN  "=?UTF-8?B?"
#define EW_CLOSE "?="
#define EW_FIXED (sizeof(EW_OPEN) - 1 + sizeof(EW_CLOSE) - 1)
#define EW_MAX   75 /* RFC 2047 2: an encoded-word is at most 75 characters */

/* s as encoded-words, each preceded by a blank (or a fold), each within
 * the fold column and holding whole UTF-8 characters. */
static void hdr_encoded(struct hdr *h, const char *s, size_t n)
{
    size_t off = 0;

    while (off < n) {
        size_t room, max, take = 0;

        /* The longest character (4 bytes) needs 8 base64 characters. */
        if (h->col + 1 + EW_FIXED + 8 > ND_MAIL_LINE_FOLD)
            hdr_fold(h);
        room = ND_MAIL_LINE_FOLD - h->col - 1;
        if (room > EW_MAX)
            room = EW_MAX;
        max = (room - EW_FIXED) / 4 * 3;
        while (off + take < n) {
            size_t k = utf8_len((const unsigned char *)s + off + take, n - off - take);
            if (take + k > max)
                break;
            take += k;
        }
        hdr_put(h, " " EW_OPEN, 1 + sizeof(EW_OPEN) - 1);
        if (h->rc == ND_OK) {
            size_t before = h->b->len;
            h->rc = nd_crypto_base64(h->b, s + off, take);
            h->col += h->b->len - before;
        }
        hdr_put(h, EW_CLOSE, sizeof(EW_CLOSE) - 1);
        off += take;
    }
}

/* Whether text must be encoded: not printable ASCII, "=?" inside (it would
 * read as an encoded-word), or a piece (blanks and the word after them,
 * what a folded line holds) too long for one line. first_col: where the
 * text starts on its line. */
static bool needs_encoding(const char *s, size_t n, size_t first_col)
{
    size_t i, piece = first_col;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool blank = c == ' ' || c == '\t';

        if (c >= 0x7f || (c < 0x20 && !blank))
            return true;
        if (c == '=' && i + 1 < n && s[i + 1] == '?')
            return true;
        /* A piece starts at the first blank after a word. */
        if (blank && i > 0 && s[i - 1] != ' ' && s[i - 1] != '\t')
            piece = 0;
        if (++piece > ND_MAIL_LINE_MAX)
            return true;
    }
    return false;
}

/* Printable ASCII text without trailing blanks, folded before blanks: each
 * piece is a run of blanks and the word after it. */
static void hdr_plain(struct hdr *h, const char *s, size_t n)
{
    size_t i = 0;

    hdr_put(h, " ", 1);
    while (i < n) {
        size_t j = i;

        while (j < n && (s[j] == ' ' || s[j] == '\t'))
            j++;
        while (j < n && s[j] != ' ' && s[j] != '\t')
            j++;
        if (i > 0 && h->col + (j - i) > ND_MAIL_LINE_FOLD)
            hdr_fold(h);
        hdr_put(h, s + i, j - i);
        i = j;
    }
}

int nd_mail_header_text(struct nd_buf *b, const char *name, const char *value, size_t len)
{
    struct hdr h = {b, 0, ND_OK};
    char *clean = nd_xmalloc(len + 1);
    size_t i, n = 0;

    /* One line of text: CR, LF and CRLF become one blank. */
    for (i = 0; i < len; i++) {
        if (value[i] == '\r' && i + 1 < len && value[i + 1] == '\n')
            i++;
        clean[n++] = (value[i] == '\r' || value[i] == '\n') ? ' ' : value[i];
    }
    /* Trailing blanks say nothing, and a folded line may not be blank. */
    while (n > 0 && (clean[n - 1] == ' ' || clean[n - 1] == '\t'))
        n--;
    hdr_put(&h, name, strlen(name));
    hdr_put(&h, ":", 1);
    if (n == 0)
        hdr_put(&h, " ", 1);
    else if (needs_encoding(clean, n, h.col + 1))
        hdr_encoded(&h, clean, n);
    else
        hdr_plain(&h, clean, n);
    hdr_put(&h, "\r\n", 2);
    free(clean);
    return h.rc;
}

/* A display name as a phrase: atoms as they are, other ASCII as a
 * quoted-string, anything else as encoded-words. */
static void hdr_phrase(struct hdr *h, const char *s)
{
    size_t n = strlen(s), i;
    bool atoms = true;

    if (needs_encoding(s, n, 0)) {
        hdr_encoded(h, s, n);
        return;
    }
    for (i = 0; i < n && atoms; i++)
        atoms = is_atext((unsigned char)s[i]) || s[i] == ' ';
    if (atoms && s[0] != ' ' && s[n - 1] != ' ' && !strstr(s, "  ")) {
        size_t start = 0;
        for (i = 0; i <= n; i++) {
            if (i == n || s[i] == ' ') {
                hdr_word(h, s + start, i - start);
                start = i + 1;
            }
        }
        return;
    }
    {
        /* At most 2 * 256 + 2 octets: always within a line. */
        char q[2 * ND_MAIL_NAME_MAX + 3];
        size_t k = 0;

        q[k++] = '"';
        for (i = 0; i < n && k + 3 < sizeof(q); i++) {
            if (s[i] == '"' || s[i] == '\\')
                q[k++] = '\\';
            q[k++] = s[i];
        }
        q[k++] = '"';
        hdr_word(h, q, k);
    }
}

int nd_mail_header_addrs(struct nd_buf *b, const char *name, const struct nd_mail_addr *a, size_t n)
{
    struct hdr h = {b, 0, ND_OK};
    size_t i;

    hdr_put(&h, name, strlen(name));
    hdr_put(&h, ":", 1);
    for (i = 0; i < n; i++) {
        char buf[ND_MAIL_ADDR_MAX + 4];
        size_t len;

        if (a[i].name && a[i].name[0]) {
            hdr_phrase(&h, a[i].name);
            len = (size_t)snprintf(buf, sizeof(buf), "<%s>%s", a[i].addr, i + 1 < n ? "," : "");
        } else {
            len = (size_t)snprintf(buf, sizeof(buf), "%s%s", a[i].addr, i + 1 < n ? "," : "");
        }
        hdr_word(&h, buf, len < sizeof(buf) ? len : sizeof(buf) - 1);
    }
    hdr_put(&h, "\r\n", 2);
    return h.rc;
}

void nd_mail_date(int64_t wall_ns, char out[ND_MAIL_DATE_LEN])
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = (time_t)(wall_ns / ND_NS_PER_S);
    struct tm tm;
    long off;
    char buf[160];

    if (!localtime_r(&t, &tm))
        memset(&tm, 0, sizeof(tm));
    off = tm.tm_gmtoff / 60;
    /* Fits ND_MAIL_DATE_LEN for years 0..9999; the compiler cannot know. */
    snprintf(buf, sizeof(buf), "%s, %02d %s %04d %02d:%02d:%02d %c%02ld%02ld",
             days[(unsigned)tm.tm_wday % 7], tm.tm_mday, months[(unsigned)tm.tm_mon % 12],
             tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec, off < 0 ? '-' : '+',
             (off < 0 ? -off : off) / 60 % 100, (off < 0 ? -off : off) % 60);
    snprintf(out, ND_MAIL_DATE_LEN, "%.31s", buf);
}

void nd_mail_random(void *p, size_t n)
{
    static uint64_t counter;
    unsigned char *o = p;
    ssize_t got = getrandom(p, n, GRND_NONBLOCK);
    size_t i = got > 0 ? (size_t)got : 0;

    while (i < n) {
        uint64_t x =
            nd_hash_mix64((uint64_t)nd_now_wall_ns() ^ nd_hash_word((uint64_t)getpid(), ++counter) ^
                          (uint64_t)nd_now_mono_ns() << 1);
        size_t k = n - i < sizeof(x) ? n - i : sizeof(x);

        memcpy(o + i, &x, k);
        i += k;
    }
}

void nd_mail_message_id(const char *domain, char out[ND_MAIL_MSGID_LEN])
{
    static uint32_t counter;
    uint64_t r;

    nd_mail_random(&r, sizeof(r));
    snprintf(out, ND_MAIL_MSGID_LEN, "<%016llx.%08x.%016llx@%s>",
             (unsigned long long)nd_now_wall_ns(), ++counter, (unsigned long long)r, domain);
}

int nd_mail_headers(struct nd_buf *b, const struct nd_mail_msg *m)
{
    int rc = nd_mail_header_addrs(b, "From", m->from, 1);

    if (rc == ND_OK)
        rc = nd_mail_header_addrs(b, "To", m->to, m->nto);
    if (rc == ND_OK)
        rc = nd_mail_header_text(b, "Subject", m->subject, m->subject_len);
    if (rc == ND_OK)
        rc = nd_buf_printf(b,
                           "Date: %s\r\nMessage-ID: %s\r\n"
                           /* RFC 3834: keeps vacation responders from answering. */
                           "Auto-Submitted: auto-generated\r\n",
                           m->date, m->message_id);
    return rc;
}

/* ---- bodies ------------------------------------------------------------- */

/* The next line of s[*pos..n): its length in *len; returns whether a line
 * break (LF, CRLF or a lone CR) followed it, and moves *pos past it. */
static bool next_line(const char *s, size_t n, size_t *pos, size_t *len)
{
    size_t i = *pos;

    while (i < n && s[i] != '\n' && s[i] != '\r')
        i++;
    *len = i - *pos;
    if (i >= n) {
        *pos = n;
        return false;
    }
    if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n')
        i++;
    *pos = i + 1;
    return true;
}

static bool qp_literal(unsigned char c)
{
    return (c >= 33 && c <= 126 && c != '=') || c == ' ' || c == '\t';
}

int nd_mail_qp(struct nd_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t pos = 0;
    int rc = ND_OK;

    while (pos < n && rc == ND_OK) {
        size_t start = pos, len, i, col = 0;
        bool brk = next_line(s, n, &pos, &len);

        for (i = 0; i < len && rc == ND_OK; i++) {
            unsigned char c = (unsigned char)s[start + i];
            bool last = i + 1 == len;
            /* A blank at the end of a line would be lost in transport. */
            bool lit = qp_literal(c) && !(last && (c == ' ' || c == '\t'));
            size_t tl = lit ? 1 : 3;
            char tok[3];

            /* Room for the '=' of a soft break, unless this token ends the
             * line and fits as it is. */
            if (col + tl > ND_MAIL_LINE_FOLD - 1 && !(last && col + tl <= ND_MAIL_LINE_FOLD)) {
                rc = nd_buf_add(b, "=\r\n", 3);
                col = 0;
            }
            if (lit) {
                tok[0] = (char)c;
            } else {
                tok[0] = '=';
                tok[1] = hex[c >> 4];
                tok[2] = hex[c & 15];
            }
            if (rc == ND_OK)
                rc = nd_buf_add(b, tok, tl);
            col += tl;
        }
        if (brk && rc == ND_OK)
            rc = nd_buf_add(b, "\r\n", 2);
    }
    return rc;
}

int nd_mail_base64(struct nd_buf *b, const char *s, size_t n)
{
    /* 57 bytes make one 76-character line. */
    struct nd_buf canon;
    size_t pos = 0, off;
    int rc = ND_OK;

    nd_buf_init(&canon, b->limit);
    while (pos < n && rc == ND_OK) {
        size_t start = pos, len;
        bool brk = next_line(s, n, &pos, &len);

        rc = nd_buf_add(&canon, s + start, len);
        if (brk && rc == ND_OK)
            rc = nd_buf_add(&canon, "\r\n", 2);
    }
    for (off = 0; off < canon.len && rc == ND_OK; off += 57) {
        size_t k = canon.len - off < 57 ? canon.len - off : 57;

        if (off > 0)
            rc = nd_buf_add(b, "\r\n", 2);
        if (rc == ND_OK)
            rc = nd_crypto_base64(b, canon.data + off, k);
    }
    nd_buf_deinit(&canon);
    return rc;
}

/* Quoted-printable unless more than one byte in six needs escaping, where
 * base64 (4/3 of the size) is shorter: mostly-ASCII text stays readable,
 * CJK text does not triple. */
static int mime_part(struct nd_buf *b, const char *boundary, const char *type, const char *s,
                     size_t n)
{
    size_t i, esc = 0;
    bool qp;
    int rc;

    for (i = 0; i < n; i++)
        if (!qp_literal((unsigned char)s[i]) && s[i] != '\n' && s[i] != '\r')
            esc++;
    qp = esc * 6 <= n;
    rc = nd_buf_printf(b,
                       "--%s\r\nContent-Type: %s; charset=UTF-8\r\n"
                       "Content-Transfer-Encoding: %s\r\n\r\n",
                       boundary, type, qp ? "quoted-printable" : "base64");
    if (rc == ND_OK)
        rc = qp ? nd_mail_qp(b, s, n) : nd_mail_base64(b, s, n);
    if (rc == ND_OK)
        rc = nd_buf_add(b, "\r\n", 2);
    return rc;
}

int nd_mail_mime(struct nd_buf *b, const struct nd_mail_content *c)
{
    unsigned char r[16];
    char boundary[8 + 2 * sizeof(r)];
    int rc;

    /* "=_" cannot occur in quoted-printable or base64 text, so no part can
     * contain the boundary. */
    nd_mail_random(r, sizeof(r));
    memcpy(boundary, "=_nd_", 5);
    nd_crypto_hex(r, sizeof(r), boundary + 5);
    rc = nd_buf_printf(b,
                       "MIME-Version: 1.0\r\n"
                       "Content-Type: multipart/alternative;\r\n boundary=\"%s\"\r\n\r\n",
                       boundary);
    if (rc == ND_OK)
        rc = mime_part(b, boundary, "text/plain", c->text, c->text_len);
    if (rc == ND_OK && c->html)
        rc = mime_part(b, boundary, "text/html", c->html, c->html_len);
    if (rc == ND_OK)
        rc = nd_buf_printf(b, "--%s--\r\n", boundary);
    return rc;
}
