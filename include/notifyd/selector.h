/* selector.h - label selectors, parsed once at configuration time and
 * evaluated on every alert without allocating.
 *
 * Syntax: Kubernetes' label-selector strings plus Notification Manager's
 * regex match, requirements separated by commas and all ANDed:
 *
 *   k=v  k==v    the label is present with value v
 *   k!=v         the label is absent, or its value is not v
 *   k in (a,b)   the label is present with one of the values
 *   k notin (a,b)  the label is absent, or its value is none of them
 *   k            the label is present
 *   !k           the label is absent
 *   k=~RE        RE (Go/RE2 syntax) matches the value somewhere, unanchored,
 *                an absent label read as "" (NM's `Match` operator)
 *   k!~RE        the negation of k=~RE
 *
 * A key is a label name (letters, digits, '_', '.', '-', '/'). A value (or
 * RE) may be double-quoted, and must be when it holds a comma, a blank, a
 * parenthesis or a double quote; inside quotes \" and \\ stand for " and \.
 * The quotes are not part of the value. Blanks around tokens are ignored.
 * The empty selector matches every alert.
 *
 * A regex that needs more than ND_RE_MATCH_LIMIT matcher steps on a value
 * counts as not matching (for k!~RE too: the requirement is not met), so a
 * pathological value can neither stall the loop nor pass a selector.
 */
#ifndef NOTIFYD_SELECTOR_H
#define NOTIFYD_SELECTOR_H

#include <stdbool.h>
#include <stddef.h>

#include "notifyd/alert.h"
#include "notifyd/buf.h"
#include "notifyd/util.h"

/* Most requirements in one selector, and most values in one (a,b) set. */
#define ND_SELECTOR_MAX_REQS   256u
#define ND_SELECTOR_MAX_VALUES 1024u
/* Longest selector text. */
#define ND_SELECTOR_MAX_LEN (64u * 1024)

struct nd_selector;

/* Parses `text`. ND_OK with *out set, or ND_EINVAL with *out NULL, *col the
 * 1-based column (in bytes) where the problem is, and the reason in err
 * ("expected a value after '=' ", "unterminated quote", the regex's error). */
int nd_selector_parse(const char *text, struct nd_selector **out, size_t *col, char err[ND_ERRLEN]);
void nd_selector_free(struct nd_selector *s);

/* Number of requirements (0 for the empty selector). */
size_t nd_selector_count(const struct nd_selector *s);

/* Looks a label up in a caller's label set: its value, or NULL. */
typedef const char *nd_selector_lookup_fn(const void *labels, const char *name);

/* Whether the labels satisfy every requirement. The selector is not const:
 * its compiled regexes hold their match scratch space (regex.h). */
bool nd_selector_matches(struct nd_selector *s, nd_selector_lookup_fn *lookup, const void *labels);
/* The same on an alert's labels. */
bool nd_selector_matches_alert(struct nd_selector *s, const struct nd_alert *a);

/* The first `k=v` requirement (borrowed strings; valid while s is): every
 * label set s matches has label k with value v, so callers holding many
 * selectors can index them by it. false when s has none. */
bool nd_selector_first_eq(const struct nd_selector *s, const char **key, const char **value);

/* Canonical text of the selector (values quoted where needed), appended to
 * out: parsing it gives an equal selector. For the read-only views. */
int nd_selector_format(const struct nd_selector *s, struct nd_buf *out);

#endif
