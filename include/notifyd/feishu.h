/* feishu.h - the Feishu (Lark) receiver's signature and post rewriting,
 * exposed for its tests.
 *
 * The receiver type itself is nd_receiver_type_feishu (receiver.h).
 *
 * Custom bot signing ("签名校验"): the HMAC-SHA256 KEY is the string
 * timestamp + "\n" + secret, the message is empty, and the signature is the
 * standard base64 of the MAC; the timestamp is in seconds since the epoch
 * (https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot).
 */
#ifndef NOTIFYD_FEISHU_H
#define NOTIFYD_FEISHU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "notifyd/buf.h"

/* Appends the base64 signature for ts_s to out. ND_OK, or an error with
 * err set (ND_ERRLEN bytes). */
int nd_feishu_sign(const char *secret, int64_t ts_s, struct nd_buf *out, char *err);

/* A post template's output (the JSON object of a "post" message: one
 * member per language, each {"title"?, "content": [[element, ...], ...]})
 * checked and written again into `out` (which should be empty): every
 * language without a "title" gets `title` (when not NULL), and every
 * language's content gets a last paragraph [{"tag":"text","text":
 * keywords}] (when keywords is not NULL). Strings are escaped as Go's
 * json.Marshal does. ND_OK; ND_EINVAL with err naming what is wrong
 * (invalid JSON, not an object of languages, a language without a content
 * list of paragraphs...); ND_ETOOBIG at out's ceiling or nesting deeper
 * than ND_JSON_MAX_DEPTH. */
int nd_feishu_post(const char *json, size_t len, const char *title, const char *keywords,
                   struct nd_buf *out, char *err);

/* The text of the first language of a post template's output: the "text"
 * members of each paragraph's elements, one line per paragraph, each line
 * ending with "\n", appended to `text`; the language's name (at most 63
 * bytes, "" when there is none) into lang. With `partial`, json may be cut
 * anywhere (a rendering stopped at its ceiling): what was complete counts.
 * ND_OK, or ND_EINVAL with err set for JSON that is not a post. */
int nd_feishu_post_text(const char *json, size_t len, bool partial, struct nd_buf *text,
                        char lang[64], char *err);

#endif
