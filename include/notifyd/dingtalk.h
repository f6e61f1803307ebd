/* dingtalk.h - the DingTalk receiver's signature, exposed for its tests.
 *
 * The receiver type itself is nd_receiver_type_dingtalk (receiver.h).
 * DingTalk's custom-robot "secret" signing: sign = base64(HMAC-SHA256(
 * key = secret, msg = timestamp + "\n" + secret)) with the timestamp in
 * milliseconds since the epoch, sent once URL-encoded in the query
 * (https://open.dingtalk.com/document/robots/customize-robot-security-settings).
 */
#ifndef NOTIFYD_DINGTALK_H
#define NOTIFYD_DINGTALK_H

#include <stdint.h>

#include "notifyd/buf.h"

/* Appends the base64 signature (not URL-encoded) for ts_ms to out.
 * ND_OK, or an error with err set (ND_ERRLEN bytes). */
int nd_dingtalk_sign(const char *secret, int64_t ts_ms, struct nd_buf *out, char *err);

#endif
