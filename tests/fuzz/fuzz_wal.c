/* fuzz_wal.c - decoding the write-ahead log (src/store/wal.c): one input is
 * the bytes of a segment after its magic, as open() reads them back after a
 * crash, torn or corrupted anywhere; the same bytes are also decoded as a
 * bare ALERT, DONE and FREED payload.
 *
 * Records are decoded one after the other until one does not check out
 * (what open() does); each payload is decoded by its type. Checks beyond
 * "no crash, no leak": a decoded record lies within the input; re-encoding a
 * record gives the same bytes; an ALERT payload that decodes re-encodes to a
 * payload that decodes to the same alert (NM ID and fingerprint), with a
 * label and sorted unique label names; DONE and FREED counts match their
 * lengths.
 */
#include <string.h>

#include "fuzz.h"
#include "notifyd/alert.h"
#include "notifyd/buf.h"
#include "notifyd/util.h"
#include "notifyd/wal.h"

static struct nd_alert_builder b;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    nd_alert_builder_init(&b, 64u << 10);
    return 0;
}

void fuzz_cleanup(void)
{
    nd_alert_builder_deinit(&b);
}

static void check_alert_payload(const struct nd_wal_record *rec)
{
    char err[ND_ERRLEN];
    uint64_t seq;
    struct nd_alert *a = nd_wal_alert_decode(rec->payload, rec->len, &b, "fuzz", &seq, err);
    if (!a) {
        FUZZ_CHECK(err[0] != '\0', "a refused alert payload without a message");
        return;
    }
    FUZZ_CHECK(a->nlabels >= 1, "an alert without labels");
    for (size_t i = 1; i < a->nlabels; i++) {
        struct nd_kv p = nd_alert_label_at(a, i - 1), q = nd_alert_label_at(a, i);
        FUZZ_CHECK(strcmp(p.name, q.name) < 0, "labels not sorted and unique: %s, %s", p.name,
                   q.name);
    }
    struct nd_buf p;
    nd_buf_init(&p, SIZE_MAX / 2);
    nd_wal_alert_encode(&p, seq, a);
    uint64_t seq2;
    struct nd_alert *c =
        nd_wal_alert_decode((const unsigned char *)p.data, p.len, &b, "fuzz", &seq2, err);
    FUZZ_CHECK(c != NULL, "a re-encoded alert does not decode: %s", err);
    FUZZ_CHECK(seq2 == seq, "seq changed");
    FUZZ_CHECK(nd_alert_id(c) == nd_alert_id(a), "NM ID changed by a round trip");
    FUZZ_CHECK(nd_alert_fingerprint(c) == nd_alert_fingerprint(a), "fingerprint changed");
    nd_alert_unref(c);
    nd_alert_unref(a);
    nd_buf_deinit(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t off = 0;
    struct nd_buf re;
    nd_buf_init(&re, SIZE_MAX / 2);
    while (off < size) {
        struct nd_wal_record rec;
        size_t used;
        int rc = nd_wal_record_decode(data + off, size - off, &rec, &used);
        if (rc != ND_OK) {
            FUZZ_CHECK(rc == ND_EAGAIN || rc == ND_EINVAL, "status %d", rc);
            break;
        }
        FUZZ_CHECK(used == ND_WAL_HEADER + rec.len && used <= size - off, "record size");
        nd_buf_reset(&re);
        nd_wal_record_encode(&re, rec.type, rec.payload, rec.len);
        FUZZ_CHECK(re.len == used && !memcmp(re.data, data + off, used),
                   "re-encoding changed the record");
        const unsigned char *seqs;
        uint32_t n;
        const char *name;
        size_t nl;
        if (rec.type == ND_WAL_ALERT) {
            check_alert_payload(&rec);
        } else if (rec.type == ND_WAL_DONE) {
            if (nd_wal_done_decode(rec.payload, rec.len, &name, &nl, &seqs, &n) == ND_OK) {
                FUZZ_CHECK(nl >= 1 && nl <= ND_WAL_MAX_NAME, "name length %zu", nl);
                FUZZ_CHECK(seqs + 8 * (size_t)n == rec.payload + rec.len, "DONE count");
            }
        } else if (nd_wal_freed_decode(rec.payload, rec.len, &seqs, &n) == ND_OK) {
            FUZZ_CHECK(seqs + 8 * (size_t)n == rec.payload + rec.len, "FREED count");
        }
        off += used;
    }
    nd_buf_deinit(&re);
    /* The checksum stops almost every mutation before the payload decoders:
     * the input also goes to them directly. */
    struct nd_wal_record raw = {.type = ND_WAL_ALERT, .payload = data, .len = (uint32_t)size};
    if (size <= ND_WAL_MAX_PAYLOAD) {
        check_alert_payload(&raw);
        const unsigned char *seqs;
        uint32_t n;
        const char *name;
        size_t nl;
        if (nd_wal_done_decode(data, size, &name, &nl, &seqs, &n) == ND_OK)
            FUZZ_CHECK(seqs + 8 * (size_t)n == data + size, "raw DONE count");
        if (nd_wal_freed_decode(data, size, &seqs, &n) == ND_OK)
            FUZZ_CHECK(seqs + 8 * (size_t)n == data + size, "raw FREED count");
    }
    return 0;
}
