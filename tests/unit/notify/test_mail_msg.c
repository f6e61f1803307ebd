/* test_mail_msg.c - e-mail addresses and messages (mail_msg.h): parsing
 * and refusing addresses, RFC 2047 subjects folded within 76 columns that
 * decode back to the text, quoted-printable and base64 bodies, the MIME
 * structure, line lengths and CRLF, Date and Message-ID. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "notifyd/buf.h"
#include "notifyd/crypto.h"
#include "notifyd/mail_msg.h"
#include "notifyd/parse.h"
#include "notifyd/util.h"
#include "tap.h"

#define BIG (8u << 20)

/* Every line ends in CRLF (no bare CR or LF), none is longer than max
 * octets. Returns the longest line, or -1 on a bare CR/LF. */
static long longest_line(const char *s, size_t n)
{
    size_t i, start = 0;
    long max = 0;

    for (i = 0; i < n; i++) {
        if (s[i] == '\r' || s[i] == '\n') {
            if (s[i] != '\r' || i + 1 >= n || s[i + 1] != '\n')
                return -1;
            if ((long)(i - start) > max)
                max = (long)(i - start);
            i++;
            start = i + 1;
        }
    }
    if ((long)(n - start) > max)
        max = (long)(n - start);
    return max;
}

static bool utf8_complete(const unsigned char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        size_t k = s[i] < 0x80 ? 1 : s[i] >= 0xf0 ? 4 : s[i] >= 0xe0 ? 3 : s[i] >= 0xc0 ? 2 : 0;
        size_t j;

        if (k == 0 || i + k > n)
            return false;
        for (j = 1; j < k; j++)
            if ((s[i + j] & 0xc0) != 0x80)
                return false;
        i += k;
    }
    return true;
}

/* Decodes a header's value as a mail reader does: unfolds, then replaces
 * each =?UTF-8?B?...?= (and the blanks between two of them) by its bytes.
 * Also checks that each encoded-word is at most 75 characters and holds
 * whole UTF-8 characters. */
static char *decode_header(const char *line, size_t n, bool *words_ok)
{
    struct nd_buf unf, out, w;
    size_t i, word_end = 0;
    const char *colon = memchr(line, ':', n);
    bool prev_word = false;
    char err[ND_ERRLEN];

    *words_ok = true;
    nd_buf_init(&unf, BIG);
    nd_buf_init(&out, BIG);
    for (i = (size_t)(colon - line) + 1; i < n; i++) {
        if (line[i] == '\r' && i + 1 < n && line[i + 1] == '\n') {
            i++;
            continue;
        }
        nd_buf_addc(&unf, line[i]);
    }
    i = 0;
    if (unf.len && unf.data[0] == ' ')
        i = 1;
    while (i < unf.len) {
        const char *p = unf.data + i;
        if (strncmp(p, "=?UTF-8?B?", 10) == 0) {
            const char *end = strstr(p + 10, "?=");
            if (!end) {
                *words_ok = false;
                break;
            }
            if (end + 2 - p > 75)
                *words_ok = false;
            nd_buf_init(&w, 1024);
            if (nd_crypto_base64_decode(&w, p + 10, (size_t)(end - p - 10), err) != ND_OK ||
                !utf8_complete((const unsigned char *)nd_buf_cstr(&w), w.len))
                *words_ok = false;
            /* Blanks between two encoded-words are dropped. */
            if (prev_word)
                out.len = word_end;
            nd_buf_add(&out, nd_buf_cstr(&w), w.len);
            word_end = out.len;
            nd_buf_deinit(&w);
            i = (size_t)(end + 2 - unf.data);
            prev_word = true;
        } else {
            nd_buf_addc(&out, *p);
            if (*p != ' ')
                prev_word = false;
            i++;
        }
    }
    nd_buf_deinit(&unf);
    return nd_buf_take(&out, NULL);
}

static void test_addresses(void)
{
    struct nd_mail_addrs a = {NULL, 0};
    char err[ND_ERRLEN];
    static const char *const bad[][2] = {
        {"nobody", "want local@domain"},
        {"a..b@example.com", "misplaced '.'"},
        {".a@example.com", "misplaced '.'"},
        {"a.@example.com", "misplaced '.'"},
        {"a@-bad.example", "bad domain"},
        {"a@exa mple.com", "bad domain"},
        {"a@", "bad domain"},
        {"@example.com", "empty local part"},
        {"a@[300.1.1.1]", "bad domain"},
        {"a@[IPv6:zz::1]", "bad domain"},
        {"ops: a@b.c;", "groups are not supported"},
        {"a@b.c (ops)", "comments are not supported"},
        {"Ops (team) <a@b.c>", "comments are not supported"},
        {"\xe5\xbc\xa0@example.com", "non-ASCII addresses"},
        {"\"unclosed <a@b.c>", "unclosed quote"},
        {"Name <a@b.c> x", "text after the closing '>'"},
        {"Na\"me\" <a@b.c>", "bad character in the display name"},
        {"a@b.c@d.e", "bad domain"},
        {"<a b@c.d>", "bad character in the local part"},
        {"12345678901234567890123456789012345678901234567890123456789012345@x.io",
         "longer than 64"},
    };
    size_t i;

    is_int(nd_mail_addrs_parse("ops@example.com", &a, err), ND_OK, "bare addr-spec");
    ok(a.n == 1 && !a.v[0].name && strcmp(a.v[0].addr, "ops@example.com") == 0,
       "bare: no name, the address");
    nd_mail_addrs_deinit(&a);

    is_int(nd_mail_addrs_parse(" Ops Team <ops@example.com> ,\"Doe, John\" <jd@x.io>,\n"
                               "\t\xe5\xbc\xa0\xe4\xb8\x89 <zs@example.cn>,,"
                               "\"q\\\"t\" <\"odd local\"@[192.0.2.1]>, x@[IPv6:2001:db8::1]",
                               &a, err),
           ND_OK, "a list with names, a comma inside quotes, newlines, literals");
    is_uint(a.n, 5, "five mailboxes (the empty item skipped)");
    if (a.n == 5) {
        is_str(a.v[0].name, "Ops Team", "name of an atom phrase");
        is_str(a.v[0].addr, "ops@example.com", "its address");
        is_str(a.v[1].name, "Doe, John", "a quoted name keeps its comma");
        is_str(a.v[2].name, "\xe5\xbc\xa0\xe4\xb8\x89", "a UTF-8 name");
        is_str(a.v[3].name, "q\"t", "quoted-pair unescaped");
        is_str(a.v[3].addr, "\"odd local\"@[192.0.2.1]", "quoted local part and IPv4 literal");
        is_str(a.v[4].addr, "x@[IPv6:2001:db8::1]", "IPv6 literal");
        is_str(nd_mail_addr_domain(a.v[4].addr), "[IPv6:2001:db8::1]", "its domain");
    }
    nd_mail_addrs_deinit(&a);

    for (i = 0; i < ND_ARRAY_LEN(bad); i++) {
        err[0] = '\0';
        is_int(nd_mail_addrs_parse(bad[i][0], &a, err), ND_EINVAL, "refused: %s", bad[i][0]);
        has_str(err, bad[i][1], "reason for %s", bad[i][0]);
        nd_mail_addrs_deinit(&a);
    }
    is_int(nd_mail_addrs_parse(" , \n", &a, err), ND_OK, "only separators: no error here");
    is_uint(a.n, 0, "... and no address (the caller says so)");
    ok(nd_mail_domain_valid("mail.example.com") && nd_mail_domain_valid("[127.0.0.1]") &&
           !nd_mail_domain_valid("a_b.example") && !nd_mail_domain_valid("x..y"),
       "EHLO domains: LDH labels or a literal");
}

static void check_subject(const char *subject, const char *name)
{
    struct nd_buf b;
    bool words_ok;
    char *dec;
    long longest;

    nd_buf_init(&b, BIG);
    is_int(nd_mail_header_text(&b, "Subject", subject, strlen(subject)), ND_OK, "%s: written",
           name);
    longest = longest_line(b.data, b.len);
    ok(longest >= 0 && longest <= ND_MAIL_LINE_FOLD, "%s: CRLF only, lines <= 76 (longest %ld)",
       name, longest);
    ok(b.len > 2 && memcmp(b.data + b.len - 2, "\r\n", 2) == 0, "%s: ends with CRLF", name);
    {
        /* Continuation lines start with a blank. */
        const char *p = b.data;
        bool cont_ok = true;
        while ((p = strstr(p, "\r\n")) && p + 2 < b.data + b.len) {
            if (p[2] != ' ' && p[2] != '\t')
                cont_ok = false;
            p += 2;
        }
        ok(cont_ok, "%s: folded lines start with a blank", name);
    }
    dec = decode_header(b.data, b.len - 2, &words_ok);
    ok(words_ok, "%s: encoded-words <= 75 characters of whole UTF-8 characters", name);
    is_str(dec, subject, "%s: decodes back to the text", name);
    free(dec);
    nd_buf_deinit(&b);
}

static void test_subjects(void)
{
    struct nd_buf b;
    char longword[1200];
    bool words_ok;
    char *dec;

    check_subject(
        "[FIRING] \xe8\x8a\x82\xe7\x82\xb9 node-1 \xe7\x9a\x84 CPU "
        "\xe4\xbd\xbf\xe7\x94\xa8\xe7\x8e\x87\xe8\xb6\x85\xe8\xbf\x87 90% "
        "\xe5\x91\x8a\xe8\xad\xa6\xef\xbc\x8c\xe8\xaf\xb7\xe5\xb0\xbd\xe5\xbf\xab"
        "\xe5\xa4\x84\xe7\x90\x86\xe3\x80\x82\xe9\x9b\x86\xe7\xbe\xa4 prod-cn-"
        "\xe5\x8c\x97\xe4\xba\xac \xe5\x91\xbd\xe5\x90\x8d\xe7\xa9\xba\xe9\x97\xb4 "
        "kube-system \xe6\x9c\x89 3 \xe6\x9d\xa1\xe5\x91\x8a\xe8\xad\xa6 \xf0\x9f\x94\xa5",
        "Chinese subject");
    check_subject("3 firing alerts for alertname=KubePodCrashLooping namespace=kube-system "
                  "cluster=prod-east-1 severity=critical team=platform-infrastructure",
                  "long ASCII subject");
    check_subject("short", "short subject");
    check_subject("looks like =?UTF-8?B?eA==?= but is text", "text with =?");
    memset(longword, 'x', sizeof(longword) - 1);
    longword[sizeof(longword) - 1] = '\0';
    check_subject(longword, "a 1199-byte word");

    nd_buf_init(&b, BIG);
    nd_mail_header_text(&b, "Subject", "a\r\nBcc: x@evil\nc\rd", 19);
    ok(strstr(b.data, "\r\nBcc") == NULL, "CR/LF in a subject cannot start a header");
    dec = decode_header(b.data, b.len - 2, &words_ok);
    is_str(dec, "a Bcc: x@evil c d", "CR, LF and CRLF become blanks");
    free(dec);
    nd_buf_reset(&b);
    nd_mail_header_text(&b, "Subject", "trailing   ", 11);
    is_str(nd_buf_cstr(&b), "Subject: trailing\r\n", "trailing blanks dropped");
    nd_buf_reset(&b);
    nd_mail_header_text(&b, "Subject", "", 0);
    is_str(nd_buf_cstr(&b), "Subject: \r\n", "empty subject");
    nd_buf_deinit(&b);
}

static void test_addr_headers(void)
{
    struct nd_mail_addrs a = {NULL, 0};
    struct nd_buf b, list;
    char err[ND_ERRLEN];
    long longest;
    int i;

    nd_buf_init(&list, BIG);
    for (i = 0; i < 40; i++)
        nd_buf_printf(&list, "%sUser %d <user%d@example.com>", i ? ", " : "", i, i);
    nd_buf_adds(&list, ", \"Doe, \\\"JJ\\\"\" <jd@example.com>, "
                       "\xe8\xbf\x90\xe7\xbb\xb4\xe5\x80\xbc\xe7\x8f\xad\xe7\xbb\x84 "
                       "<oncall@example.cn>");
    is_int(nd_mail_addrs_parse(nd_buf_cstr(&list), &a, err), ND_OK, "42 recipients parsed");
    nd_buf_init(&b, BIG);
    is_int(nd_mail_header_addrs(&b, "To", a.v, a.n), ND_OK, "To header written");
    longest = longest_line(b.data, b.len);
    ok(longest > 0 && longest <= ND_MAIL_LINE_FOLD, "To: folded within 76 (longest %ld)", longest);
    has_str(b.data, "User 0 <user0@example.com>,", "atom names as they are");
    has_str(b.data, " \"Doe, \\\"JJ\\\"\"", "quoted name re-escaped");
    has_str(b.data, "=?UTF-8?B?", "UTF-8 name as encoded-words");
    ok(strstr(b.data, "<oncall@example.cn>\r\n") != NULL, "last mailbox without a comma");
    nd_buf_deinit(&b);
    nd_buf_deinit(&list);
    nd_mail_addrs_deinit(&a);
}

/* Decodes quoted-printable (soft breaks removed, =XX), for the checks. */
static char *qp_decode(const char *s, size_t n)
{
    struct nd_buf out;
    size_t i;

    nd_buf_init(&out, BIG);
    for (i = 0; i < n; i++) {
        if (s[i] == '=' && i + 2 < n && s[i + 1] == '\r' && s[i + 2] == '\n') {
            i += 2;
        } else if (s[i] == '=' && i + 2 < n) {
            char hex[3] = {s[i + 1], s[i + 2], 0};
            nd_buf_addc(&out, (char)strtol(hex, NULL, 16));
            i += 2;
        } else {
            nd_buf_addc(&out, s[i]);
        }
    }
    return nd_buf_take(&out, NULL);
}

static void test_qp(void)
{
    struct nd_buf b, in;
    char *dec;
    long longest;
    int i;

    nd_buf_init(&in, BIG);
    nd_buf_adds(&in, "plain line\n");
    nd_buf_adds(&in, "trailing blank \nand tab\t\r\n");
    nd_buf_adds(&in, "a=b, caf\xc3\xa9 \xe5\x91\x8a\xe8\xad\xa6\n");
    for (i = 0; i < 300; i++)
        nd_buf_addc(&in, (char)('a' + i % 26));
    nd_buf_adds(&in, "\n");
    for (i = 0; i < 100; i++)
        nd_buf_adds(&in, "\xe5\x91\x8a");
    nd_buf_adds(&in, "\n.leading dot\nlone\rcr\nend");
    nd_buf_init(&b, BIG);
    is_int(nd_mail_qp(&b, in.data, in.len), ND_OK, "quoted-printable written");
    longest = longest_line(b.data, b.len);
    ok(longest > 0 && longest <= ND_MAIL_LINE_FOLD, "QP: CRLF only, lines <= 76 (longest %ld)",
       longest);
    has_str(b.data, "trailing blank=20\r\n", "a blank at the end of a line is encoded");
    has_str(b.data, "and tab=09\r\n", "a tab at the end of a line is encoded");
    has_str(b.data, "a=3Db, caf=C3=A9", "'=' and non-ASCII bytes encoded");
    dec = qp_decode(b.data, b.len);
    {
        /* The input with CRLF line ends. */
        struct nd_buf want;
        size_t k;
        nd_buf_init(&want, BIG);
        for (k = 0; k < in.len; k++) {
            if (in.data[k] == '\r' && k + 1 < in.len && in.data[k + 1] == '\n')
                continue;
            if (in.data[k] == '\n' || in.data[k] == '\r')
                nd_buf_adds(&want, "\r\n");
            else
                nd_buf_addc(&want, in.data[k]);
        }
        is_str(dec, nd_buf_cstr(&want), "QP decodes to the text with CRLF line ends");
        nd_buf_deinit(&want);
    }
    free(dec);
    nd_buf_reset(&b);
    is_int(nd_mail_qp(&b, "", 0), ND_OK, "empty text");
    is_uint(b.len, 0, "... encodes to nothing");
    nd_buf_reset(&b);
    nd_mail_qp(&b, "x\n", 2);
    is_str(nd_buf_cstr(&b), "x\r\n", "a final line break is kept");
    nd_buf_deinit(&b);
    nd_buf_deinit(&in);
}

static void test_base64(void)
{
    struct nd_buf b, dec, stripped;
    char err[ND_ERRLEN];
    const char *text = "\xe5\x91\x8a\xe8\xad\xa6 one\n\xe4\xba\x8c two\r\nthree\n";
    size_t i;
    long longest;
    int k;

    nd_buf_init(&b, BIG);
    nd_buf_init(&dec, BIG);
    nd_buf_init(&stripped, BIG);
    for (k = 0; k < 20; k++)
        nd_buf_adds(&stripped, text);
    is_int(nd_mail_base64(&b, stripped.data, stripped.len), ND_OK, "base64 of 20 pieces");
    nd_buf_reset(&stripped);
    longest = longest_line(b.data, b.len);
    ok(longest == ND_MAIL_LINE_FOLD, "base64: CRLF only, lines of 76 (longest %ld)", longest);
    nd_buf_reset(&b);
    nd_mail_base64(&b, text, strlen(text));
    for (i = 0; i < b.len; i++)
        if (b.data[i] != '\r' && b.data[i] != '\n')
            nd_buf_addc(&stripped, b.data[i]);
    is_int(nd_crypto_base64_decode(&dec, stripped.data, stripped.len, err), ND_OK,
           "base64 decodes");
    is_str(nd_buf_cstr(&dec), "\xe5\x91\x8a\xe8\xad\xa6 one\r\n\xe4\xba\x8c two\r\nthree\r\n",
           "base64 of the text with CRLF line ends");
    nd_buf_deinit(&b);
    nd_buf_deinit(&dec);
    nd_buf_deinit(&stripped);
}

/* Counts the occurrences of needle. */
static int count(const char *hay, const char *needle)
{
    int n = 0;
    const char *p = hay;

    while ((p = strstr(p, needle))) {
        n++;
        p += strlen(needle);
    }
    return n;
}

static void test_message(void)
{
    struct nd_mail_addrs from = {NULL, 0}, to = {NULL, 0};
    struct nd_buf b, html, text;
    char err[ND_ERRLEN], date[ND_MAIL_DATE_LEN], id[ND_MAIL_MSGID_LEN], bnd[64], delim[80];
    const char *p, *q;
    struct nd_mail_content c;
    struct nd_mail_msg m;
    long longest;
    int i;

    nd_mail_addrs_parse("notifyd <nd@example.com>", &from, err);
    nd_mail_addrs_parse("a@example.com, b@example.com", &to, err);
    nd_buf_init(&html, BIG);
    nd_buf_init(&text, BIG);
    nd_buf_adds(&html, "<html><body><table>");
    for (i = 0; i < 400; i++)
        nd_buf_adds(&html, "<td style=\"x\">cell</td>"); /* one 9 KB line */
    nd_buf_adds(&html, "</table></body></html>\n");
    for (i = 0; i < 50; i++)
        nd_buf_adds(&text, "\xe8\x8a\x82\xe7\x82\xb9\xe5\x91\x8a\xe8\xad\xa6\n");
    nd_mail_date(1700000000 * ND_NS_PER_S, date);
    nd_mail_message_id("example.com", id);
    m.from = from.v;
    m.to = to.v;
    m.nto = to.n;
    m.subject = "\xe5\x91\x8a\xe8\xad\xa6";
    m.subject_len = strlen(m.subject);
    m.date = date;
    m.message_id = id;
    c.text = text.data;
    c.text_len = text.len;
    c.html = html.data;
    c.html_len = html.len;
    nd_buf_init(&b, BIG);
    is_int(nd_mail_headers(&b, &m), ND_OK, "headers written");
    is_int(nd_mail_mime(&b, &c), ND_OK, "MIME body written");
    longest = longest_line(b.data, b.len);
    ok(longest > 0 && longest <= ND_MAIL_LINE_MAX, "message: CRLF only, no line over 998 (%ld)",
       longest);
    ok(longest <= ND_MAIL_LINE_FOLD, "message: here every line is within 76 (%ld)", longest);
    {
        static const char first[] = "From: notifyd <nd@example.com>\r\n"
                                    "To: a@example.com, b@example.com\r\n"
                                    "Subject: =?UTF-8?B?";
        if (!ok(strncmp(b.data, first, strlen(first)) == 0, "From, To, Subject first"))
            printf("# %.120s\n", b.data);
    }
    has_str(b.data, "\r\nMessage-ID: <", "Message-ID");
    has_str(b.data, "\r\nAuto-Submitted: auto-generated\r\n", "Auto-Submitted");
    has_str(b.data, "\r\nMIME-Version: 1.0\r\n", "MIME-Version");
    has_str(b.data, "Content-Type: multipart/alternative;\r\n boundary=\"=_nd_",
            "multipart/alternative with a quoted boundary");
    p = strstr(b.data, "boundary=\"");
    q = p ? strchr(p + 10, '"') : NULL;
    ok(p && q && (size_t)(q - p - 10) < sizeof(bnd), "boundary found");
    if (p && q && (size_t)(q - p - 10) < sizeof(bnd)) {
        memcpy(bnd, p + 10, (size_t)(q - p - 10));
        bnd[q - p - 10] = '\0';
        snprintf(delim, sizeof(delim), "\r\n--%s\r\n", bnd);
        is_int(count(b.data, delim), 2, "two parts");
        snprintf(delim, sizeof(delim), "\r\n--%s--\r\n", bnd);
        is_int(count(b.data, delim), 1, "the closing boundary once");
        ok(b.len > strlen(delim) && strcmp(b.data + b.len - strlen(delim), delim) == 0,
           "the message ends with the closing boundary");
        is_int(count(b.data, bnd), 4, "the boundary nowhere else");
    }
    has_str(b.data,
            "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n",
            "CJK text/plain part in base64");
    has_str(b.data,
            "Content-Type: text/html; charset=UTF-8\r\n"
            "Content-Transfer-Encoding: quoted-printable\r\n",
            "ASCII html part in quoted-printable");
    ok(strstr(b.data, "text/plain") < strstr(b.data, "text/html"),
       "text/plain first, html last (the preferred one)");

    nd_buf_reset(&b);
    c.html = NULL;
    nd_buf_reset(&text);
    nd_buf_adds(&text, "only text\n");
    c.text = text.data;
    c.text_len = text.len;
    nd_mail_mime(&b, &c);
    is_int(count(b.data, "Content-Type: text/"), 1, "text mail: one part");
    ok(strstr(b.data, "text/html") == NULL, "text mail: no html part");
    has_str(b.data, "\r\n\r\nonly text\r\n\r\n--=_nd_", "text part in quoted-printable");
    ok(b.len > 4 && strcmp(b.data + b.len - 4, "--\r\n") == 0, "text mail: closed");

    {
        struct nd_buf small;
        nd_buf_init(&small, 100);
        is_int(nd_mail_mime(&small, &c), ND_ETOOBIG, "a buffer's ceiling: ND_ETOOBIG");
        nd_buf_deinit(&small);
    }

    nd_buf_deinit(&b);
    nd_buf_deinit(&html);
    nd_buf_deinit(&text);
    nd_mail_addrs_deinit(&from);
    nd_mail_addrs_deinit(&to);
}

static void test_date_and_id(void)
{
    char date[ND_MAIL_DATE_LEN];
    char ids[500][ND_MAIL_MSGID_LEN];
    int i, j, dup = 0, shape = 0;

    setenv("TZ", "UTC0", 1);
    tzset();
    nd_mail_date(1700000000 * ND_NS_PER_S + 999999999, date);
    is_str(date, "Tue, 14 Nov 2023 22:13:20 +0000", "Date in UTC");
    setenv("TZ", "CST-8", 1);
    tzset();
    nd_mail_date(1700000000 * ND_NS_PER_S, date);
    is_str(date, "Wed, 15 Nov 2023 06:13:20 +0800", "Date east of UTC");
    setenv("TZ", "NST+3:30", 1);
    tzset();
    nd_mail_date(INT64_C(946684800) * ND_NS_PER_S, date);
    is_str(date, "Fri, 31 Dec 1999 20:30:00 -0330", "Date west of UTC, half hour");
    unsetenv("TZ");
    tzset();

    for (i = 0; i < 500; i++) {
        const char *at;
        nd_mail_message_id("mail.example.com", ids[i]);
        at = strchr(ids[i], '@');
        if (ids[i][0] == '<' && at && strcmp(at, "@mail.example.com>") == 0 &&
            strspn(ids[i] + 1, "0123456789abcdef.") == (size_t)(at - ids[i] - 1))
            shape++;
    }
    for (i = 0; i < 500; i++)
        for (j = i + 1; j < 500; j++)
            if (strcmp(ids[i], ids[j]) == 0)
                dup++;
    is_int(shape, 500, "Message-ID: <hex.hex.hex@domain>");
    is_int(dup, 0, "500 Message-IDs, all different");
}

/* Random inputs (fixed seed): whatever the bytes, a subject header keeps
 * CRLF-only lines within 998 octets (76 when encoded) and decodes back to
 * the text (CR/LF as blanks, trailing blanks dropped); quoted-printable
 * keeps lines within 76 and decodes back; the address parser never
 * crashes and either accepts or says why. */
static void test_random(void)
{
    static const char alphabet[] = "ab =?\t\r\n<>\"@.,:;()[]\\\xe5\x91\x8a\xff\x80";
    uint64_t seed = 0x9e3779b97f4a7c15u;
    int i, bad_lines = 0, bad_decode = 0, bad_qp = 0, parse_silent = 0;

    for (i = 0; i < 3000; i++) {
        char in[300], want[300], err[ND_ERRLEN];
        size_t n, k, w = 0;
        struct nd_buf b;
        struct nd_mail_addrs a = {NULL, 0};
        bool words_ok;
        char *dec;
        long longest;

        seed = seed * 6364136223846793005u + 1442695040888963407u;
        n = (size_t)(seed >> 33) % sizeof(in);
        for (k = 0; k < n; k++) {
            seed = seed * 6364136223846793005u + 1442695040888963407u;
            /* Long runs of one letter now and then: words past a line. */
            in[k] = (seed >> 60) == 0 ? 'x' : alphabet[(seed >> 33) % (sizeof(alphabet) - 1)];
        }
        for (k = 0; k < n; k++) {
            if (in[k] == '\r' && k + 1 < n && in[k + 1] == '\n')
                k++;
            want[w++] = (in[k] == '\r' || in[k] == '\n') ? ' ' : in[k];
        }
        while (w > 0 && (want[w - 1] == ' ' || want[w - 1] == '\t'))
            w--;
        want[w] = '\0';
        nd_buf_init(&b, BIG);
        nd_mail_header_text(&b, "Subject", in, n);
        longest = longest_line(b.data, b.len);
        if (longest < 0 || longest > ND_MAIL_LINE_MAX ||
            (strstr(b.data, "=?UTF-8?B?") && longest > ND_MAIL_LINE_FOLD))
            bad_lines++;
        dec = decode_header(b.data, b.len - 2, &words_ok);
        /* A text that itself looks like an encoded-word is encoded, so it
         * decodes to itself too. */
        /* Invalid UTF-8 bytes go into encoded-words one by one, so only
         * the text is compared here (word lengths: the 76-column check). */
        (void)words_ok;
        if (strcmp(dec, want) != 0) {
            if (bad_decode++ == 0)
                printf("# got [%s]\n# want [%s]\n", dec, want);
        }
        free(dec);
        nd_buf_reset(&b);
        nd_mail_qp(&b, in, n);
        longest = b.len ? longest_line(b.data, b.len) : 0;
        if (longest < 0 || longest > ND_MAIL_LINE_FOLD)
            bad_qp++;
        nd_buf_deinit(&b);
        err[0] = '\0';
        memcpy(want, in, n);
        want[n] = '\0';
        if (nd_mail_addrs_parse(want, &a, err) != ND_OK && !err[0])
            parse_silent++;
        nd_mail_addrs_deinit(&a);
    }
    is_int(bad_lines, 0, "random subjects: CRLF lines within the limits");
    is_int(bad_decode, 0, "random subjects: decode back to the text");
    is_int(bad_qp, 0, "random text: quoted-printable lines within 76");
    is_int(parse_silent, 0, "random address lists: every refusal says why");
}

int main(void)
{
    test_addresses();
    test_subjects();
    test_addr_headers();
    test_qp();
    test_base64();
    test_message();
    test_date_and_id();
    test_random();
    return done_testing();
}
