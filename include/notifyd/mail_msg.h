/* mail_msg.h - e-mail addresses and messages for the email receiver.
 *
 * Addresses: RFC 5322 mailboxes ("Name <local@domain>" or "local@domain"),
 * checked against what an SMTP server takes (RFC 5321 lengths, LDH domain
 * labels or an address literal). Groups, comments and non-ASCII addresses
 * (SMTPUTF8) are refused; display names may be any UTF-8.
 *
 * Messages: header lines and a multipart/alternative MIME body, written
 * with CRLF line ends. Lines are folded at ND_MAIL_LINE_FOLD columns where
 * the text allows it and never exceed ND_MAIL_LINE_MAX octets. Header text
 * that is not printable ASCII becomes RFC 2047 encoded-words (UTF-8, "B"),
 * each holding whole UTF-8 characters. Body parts are UTF-8 in
 * quoted-printable, or base64 when that is shorter. Dot-stuffing is the
 * SMTP client's job (curl does it), so a line may start with '.'.
 *
 * Functions append to a bounded nd_buf and return ND_OK, or ND_ETOOBIG at
 * its limit (the buffer may then hold part of the output).
 */
#ifndef NOTIFYD_MAIL_MSG_H
#define NOTIFYD_MAIL_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "notifyd/buf.h"

#define ND_MAIL_LINE_FOLD  76  /* RFC 2045/2047 and RFC 5322's "SHOULD" */
#define ND_MAIL_LINE_MAX   998 /* RFC 5322 2.1.1: octets in a line, CRLF excluded */
#define ND_MAIL_LOCAL_MAX  64  /* RFC 5321 4.5.3.1.1 */
#define ND_MAIL_DOMAIN_MAX 255 /* RFC 5321 4.5.3.1.2 */
#define ND_MAIL_ADDR_MAX   254 /* RFC 5321 path (256) minus the angle brackets */
#define ND_MAIL_NAME_MAX   256 /* display name bytes: ours, keeps a header line below 998 */
#define ND_MAIL_DATE_LEN   32  /* "Thu, 04 Dec 2026 17:02:46 +0000" and the NUL */
#define ND_MAIL_MSGID_LEN  (ND_MAIL_DOMAIN_MAX + 48)

struct nd_mail_addr {
    char *name; /* display name as text (quotes and escapes removed), NULL when none */
    char *addr; /* addr-spec "local@domain", as written */
};

struct nd_mail_addrs {
    struct nd_mail_addr *v;
    size_t n;
};

/* Parses an address list (mailboxes separated by commas or newlines; empty
 * items are skipped) and appends the mailboxes to `out`. ND_OK, or
 * ND_EINVAL with err naming the bad mailbox and why (out keeps the ones
 * parsed before it). */
int nd_mail_addrs_parse(const char *s, struct nd_mail_addrs *out, char *err);
void nd_mail_addrs_deinit(struct nd_mail_addrs *a);
/* The domain of an addr-spec: what follows its last '@'. */
const char *nd_mail_addr_domain(const char *addr);
/* Whether s is a domain (LDH labels) or an address literal ([1.2.3.4],
 * [IPv6:...]) as RFC 5321 writes them in EHLO and addresses. */
int nd_mail_domain_valid(const char *s);

/* "Name: value" + CRLF for unstructured text (Subject): CR and LF become
 * spaces; folded at blanks, or as encoded-words when the value is not
 * printable ASCII, contains "=?", or has a word too long for one line. */
int nd_mail_header_text(struct nd_buf *b, const char *name, const char *value, size_t len);
/* "Name: mailbox, mailbox" + CRLF, folded between mailboxes and words. */
int nd_mail_header_addrs(struct nd_buf *b, const char *name, const struct nd_mail_addr *a,
                         size_t n);

/* RFC 5322 date-time of wall_ns in the local time zone (TZ applies), with
 * English day and month names whatever the locale. */
void nd_mail_date(int64_t wall_ns, char out[ND_MAIL_DATE_LEN]);
/* A new msg-id "<time.random@domain>" (with the brackets); unique per call
 * (wall clock, a process counter and 64 random bits). */
void nd_mail_message_id(const char *domain, char out[ND_MAIL_MSGID_LEN]);
/* Random bytes from the kernel (getrandom), falling back to a mix of the
 * clocks and a counter when it cannot answer without blocking. */
void nd_mail_random(void *p, size_t n);

/* Body encodings of UTF-8 text whose lines end in LF, CRLF or CR; the
 * output has CRLF line ends and lines of at most ND_MAIL_LINE_FOLD. A line
 * break at the end of the text is kept (a CRLF at the end of the output),
 * none is added. */
int nd_mail_qp(struct nd_buf *b, const char *s, size_t n);
int nd_mail_base64(struct nd_buf *b, const char *s, size_t n);

/* The fields of one message's header (all required). */
struct nd_mail_msg {
    const struct nd_mail_addr *from;
    const struct nd_mail_addr *to;
    size_t nto;
    const char *subject;
    size_t subject_len;
    const char *date;       /* nd_mail_date() */
    const char *message_id; /* nd_mail_message_id() */
};
/* From, To, Subject, Date, Message-ID and Auto-Submitted: auto-generated. */
int nd_mail_headers(struct nd_buf *b, const struct nd_mail_msg *m);

/* The content: a text/plain part and optionally a text/html part. */
struct nd_mail_content {
    const char *text;
    size_t text_len;
    const char *html; /* NULL: text only */
    size_t html_len;
};
/* MIME-Version and Content-Type (multipart/alternative with a random
 * boundary) header lines, the blank line, the parts (each in
 * quoted-printable or base64, whichever is shorter) and the closing
 * boundary. Appended after nd_mail_headers(), this completes a message. */
int nd_mail_mime(struct nd_buf *b, const struct nd_mail_content *c);

#endif
