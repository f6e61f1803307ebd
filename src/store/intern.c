/* intern.c - the string table: open addressing, linear probing.
 *
 * Slots hold pointers to entries; an entry is a small header followed by
 * the string, one malloc. Removal shifts the following run back instead of
 * leaving tombstones, so a table that saw a million distinct values and now
 * holds ten probes like a table of ten, and can shrink.
 *
 * Entries move between slots (resizes, backward shifts), so users do not
 * name them by slot: each entry gets a handle, an index into an array of
 * string pointers that only ever grows while entries live. A freed handle
 * goes on a stack and is the next one given out, so the array stays as large
 * as the most entries live at once; it is freed with the table.
 */
#include "notifyd/intern.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "notifyd/util.h"

struct entry {
    uint32_t refs;
    uint32_t len;
    uint32_t hash;   /* low 32 bits of the full hash: cheap mismatch test */
    uint32_t handle; /* index into strs */
    char s[];
};

#define MIN_CAP 64u

static struct entry **slots;
static size_t cap, count, entry_bytes;
static uint64_t seed;
static int seeded;

/* The empty string is shared by everyone and never counted: a zeroed
 * entry header followed by a NUL. */
static alignas(struct entry) unsigned char empty_buf[sizeof(struct entry) + 1];

/* Handles: strs[h] is the string of handle h. Slot 0 is "" for good, so
 * the static array below serves while the table is empty. `hfree` stacks
 * the handles given back; `hnext` is the first never used. */
static const char *empty_strs[1] = {(const char *)&empty_buf[offsetof(struct entry, s)]};
const char *const *nd_intern_strs_ = empty_strs;
static const char **strs = empty_strs;
static uint32_t *hfree;
static size_t hcap = 1, hnext = 1, nfree;

static uint32_t handle_new(const char *s)
{
    uint32_t h;
    if (nfree) {
        h = hfree[--nfree];
    } else {
        if (hnext == hcap) {
            if (hcap > ND_INTERN_MAX_HANDLE / 2)
                abort(); /* a billion live strings: memory ran out long before */
            size_t ncap = hcap < 64 ? 64 : hcap * 2;
            const char **n = nd_xmalloc(ncap * sizeof *n);
            memcpy(n, strs, hnext * sizeof *n);
            if (strs != empty_strs)
                free(strs);
            strs = n;
            nd_intern_strs_ = n;
            hfree = nd_xrealloc(hfree, ncap * sizeof *hfree);
            hcap = ncap;
        }
        h = (uint32_t)hnext++;
    }
    strs[h] = s;
    return h;
}

static void handle_free(uint32_t h)
{
    strs[h] = NULL;
    hfree[nfree++] = h;
}

/* With no entry left, every handle is free: back to the static array. */
static void handles_reset(void)
{
    if (strs != empty_strs)
        free(strs);
    free(hfree);
    strs = empty_strs;
    nd_intern_strs_ = empty_strs;
    hfree = NULL;
    hcap = hnext = 1;
    nfree = 0;
}

static struct entry *entry_of(const char *p)
{
    return (struct entry *)(void *)(p - offsetof(struct entry, s));
}

static void seed_once(void)
{
    if (seeded)
        return;
    if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed)
        seed = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)&seed;
    seeded = 1;
}

/* Up to 8 bytes as a little word, without a variable-length memcpy call. */
static uint64_t load_tail(const unsigned char *p, size_t n)
{
    uint64_t w = 0;
    for (size_t i = 0; i < n; i++)
        w |= (uint64_t)p[i] << (8 * i);
    return w;
}

/* A word has a zero byte when this is non-zero (the classic bit trick). */
static uint64_t zero_byte(uint64_t w)
{
    return (w - UINT64_C(0x0101010101010101)) & ~w & UINT64_C(0x8080808080808080);
}

uint64_t nd_intern_hash_checked(const void *s, size_t len, int *has_nul)
{
    const unsigned char *p = s;
    seed_once();
    uint64_t h = seed ^ (len * UINT64_C(0x9e3779b97f4a7c15)), w, z = 0;
    size_t n = len;
    while (n >= 8) {
        memcpy(&w, p, 8);
        z |= zero_byte(w);
        h = nd_hash_word(h, w);
        p += 8;
        n -= 8;
    }
    if (n) {
        if (len >= 8) {
            /* the last 8 bytes, shifted so that only the unread ones remain;
             * the shift brings in zeros, so test the bytes before it */
            memcpy(&w, p + n - 8, 8);
            z |= zero_byte(w);
            w >>= (8 - n) * 8;
        } else {
            w = load_tail(p, n);
            /* pad with 0xff so that the missing bytes do not look like NULs */
            z |= zero_byte(w | (~UINT64_C(0) << (8 * n)));
        }
        h = (h ^ w) * UINT64_C(0xc4ceb9fe1a85ec53);
    }
    if (has_nul)
        *has_nul = z != 0;
    return nd_hash_mix64(h);
}

uint64_t nd_intern_hash(const void *s, size_t len)
{
    return nd_intern_hash_checked(s, len, NULL);
}

/* A direct-mapped cache in front of the table, indexed by the first and last
 * bytes and the length: a repeated label name or value is found with one
 * compare and no full hash. It holds no references; entries leave it when
 * they are freed. */
#define FAST_SLOTS 512u
static struct entry *fast[FAST_SLOTS];

static size_t fast_index(const char *s, size_t len)
{
    uint64_t a, b;
    if (len >= 8) {
        memcpy(&a, s, 8);
        memcpy(&b, s + len - 8, 8);
    } else {
        a = b = load_tail((const unsigned char *)s, len);
    }
    uint64_t x = (a ^ (b * UINT64_C(0x9e3779b97f4a7c15)) ^ len) * UINT64_C(0xff51afd7ed558ccd);
    return (size_t)(x >> 55) & (FAST_SLOTS - 1);
}

uint32_t nd_intern_fast(const char *s, size_t len)
{
    if (len == 0)
        return ND_INTERN_EMPTY;
    struct entry *e = fast[fast_index(s, len)];
    if (e && e->len == len && memcmp(e->s, s, len) == 0) {
        e->refs++;
        return e->handle;
    }
    return ND_INTERN_NONE;
}

static uint32_t remember(struct entry *e)
{
    fast[fast_index(e->s, e->len)] = e;
    return e->handle;
}

static void place(struct entry **tab, size_t mask, struct entry *e)
{
    size_t i = e->hash & mask;
    while (tab[i])
        i = (i + 1) & mask;
    tab[i] = e;
}

static void resize(size_t ncap)
{
    struct entry **old = slots;
    size_t ocap = cap;
    slots = ncap ? nd_xcalloc(ncap, sizeof *slots) : NULL;
    cap = ncap;
    for (size_t i = 0; i < ocap; i++)
        if (old[i])
            place(slots, cap - 1, old[i]);
    free(old);
}

/* Slot of the entry equal to s, or of the empty slot ending its run. */
static size_t probe(const char *s, size_t len, uint32_t h32)
{
    size_t mask = cap - 1, i = h32 & mask;
    for (;;) {
        struct entry *e = slots[i];
        if (!e || (e->hash == h32 && e->len == len && memcmp(e->s, s, len) == 0))
            return i;
        i = (i + 1) & mask;
    }
}

uint32_t nd_intern_find(const char *s, size_t len, uint64_t hash)
{
    if (len == 0)
        return ND_INTERN_EMPTY;
    if (!cap)
        return ND_INTERN_NONE;
    struct entry *e = slots[probe(s, len, (uint32_t)hash)];
    if (!e)
        return ND_INTERN_NONE;
    e->refs++;
    return remember(e);
}

/* cache: whether the entry may go into the fast cache (not for bytes that
 * may hold NUL: nd_intern_fast's callers rely on a hit being NUL-free). */
static uint32_t intern(const char *s, size_t len, uint64_t hash, int cache)
{
    if (len == 0)
        return ND_INTERN_EMPTY;
    uint32_t h32 = (uint32_t)hash;
    if ((count + 1) * 4 > cap * 3)
        resize(cap ? cap * 2 : MIN_CAP);
    size_t i = probe(s, len, h32);
    if (slots[i]) {
        slots[i]->refs++;
        return cache ? remember(slots[i]) : slots[i]->handle;
    }
    if (len > UINT32_MAX - 1)
        abort(); /* alert.h bounds strings far below this */
    struct entry *e = nd_xmalloc(sizeof *e + len + 1);
    e->refs = 1;
    e->len = (uint32_t)len;
    e->hash = h32;
    memcpy(e->s, s, len);
    e->s[len] = '\0';
    e->handle = handle_new(e->s);
    slots[i] = e;
    count++;
    entry_bytes += nd_malloc_chunk(sizeof *e + len + 1);
    return cache ? remember(e) : e->handle;
}

uint32_t nd_intern(const char *s, size_t len, uint64_t hash)
{
    return intern(s, len, hash, 1);
}

uint32_t nd_intern_raw(const char *s, size_t len, uint64_t hash)
{
    return intern(s, len, hash, 0);
}

uint32_t nd_intern_find_raw(const char *s, size_t len, uint64_t hash)
{
    if (len == 0)
        return ND_INTERN_EMPTY;
    if (!cap)
        return ND_INTERN_NONE;
    struct entry *e = slots[probe(s, len, (uint32_t)hash)];
    if (!e)
        return ND_INTERN_NONE;
    e->refs++;
    return e->handle;
}

void nd_intern_ref(uint32_t h)
{
    if (h != ND_INTERN_EMPTY)
        entry_of(strs[h])->refs++;
}

/* Backward-shift deletion: later members of the run move up into the hole
 * when their home slot allows it, so lookups never cross a gap. */
static void remove_slot(size_t i)
{
    size_t mask = cap - 1, j = i;
    slots[i] = NULL;
    for (;;) {
        j = (j + 1) & mask;
        struct entry *e = slots[j];
        if (!e)
            break;
        size_t home = e->hash & mask;
        /* e may fill the hole at i when its home is not in (i, j] (cyclically). */
        if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) {
            slots[i] = e;
            slots[j] = NULL;
            i = j;
        }
    }
}

void nd_intern_unref(uint32_t h)
{
    if (h == ND_INTERN_EMPTY)
        return;
    struct entry *e = entry_of(strs[h]);
    if (--e->refs > 0)
        return;
    size_t i = probe(e->s, e->len, e->hash);
    if (slots[i] != e)
        abort(); /* an entry that is not in the table: memory corruption */
    remove_slot(i);
    size_t f = fast_index(e->s, e->len);
    if (fast[f] == e)
        fast[f] = NULL;
    count--;
    entry_bytes -= nd_malloc_chunk(sizeof *e + e->len + 1);
    handle_free(h);
    free(e);
    if (count == 0) {
        resize(0);
        handles_reset();
    } else if (cap > MIN_CAP && count * 8 < cap)
        resize(cap / 2);
}

uint32_t nd_intern_refs(uint32_t h)
{
    return h == ND_INTERN_EMPTY ? 0 : entry_of(strs[h])->refs;
}

size_t nd_intern_len(uint32_t h)
{
    return entry_of(strs[h])->len;
}

uint32_t nd_intern_hash32(uint32_t h)
{
    /* "" has no entry hash (its header is zeroed): compute it */
    return h == ND_INTERN_EMPTY ? (uint32_t)nd_intern_hash("", 0) : entry_of(strs[h])->hash;
}

size_t nd_intern_count(void)
{
    return count;
}

size_t nd_intern_capacity(void)
{
    return cap;
}

size_t nd_intern_bytes(void)
{
    size_t b = entry_bytes + (cap ? nd_malloc_chunk(cap * sizeof *slots) : 0);
    if (strs != empty_strs)
        b += nd_malloc_chunk(hcap * sizeof *strs) + nd_malloc_chunk(hcap * sizeof *hfree);
    return b;
}
