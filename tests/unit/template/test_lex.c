/* test_lex.c - which characters the lexer takes into identifiers, fields and
 * variables: Go's isAlphaNumeric, '_' or unicode.IsLetter or
 * unicode.IsDigit. The expected texts are go1.19.8's text/template. */
#include "../../tap.h"
#include "tmpl_test.h"

static const struct {
    const char *text, *want;
} cases[] = {
    /* Combining marks (Mn, Mc) are not letters: they end the word. */
    {"{{ a\xcc\x80 }}", "ERR: template: :1: bad character U+0300 '\xcc\x80'"},
    {"{{ .a\xcc\x80 }}", "ERR: template: :1: bad character U+0300 '\xcc\x80'"},
    {"{{ $x\xe0\xa4\x83 := 1 }}", "ERR: template: :1: bad character U+0903 '\xe0\xa4\x83'"},
    {"{{ \xcc\x80 }}", "ERR: template: :1: unrecognized character in action: U+0300 '\xcc\x80'"},
    /* Punctuation outside ASCII is no letter either. */
    {"{{ \xcd\xbe }}", "ERR: template: :1: unrecognized character in action: U+037E '\xcd\xbe'"},
    /* A letter number (Nl) is neither a letter nor a digit. */
    {"{{ $a\xe2\x85\xa0 := 1 }}", "ERR: template: :1: bad character U+2160 '\xe2\x85\xa0'"},
    /* Letters and decimal digits (Nd) of any script are. */
    {"{{ $x\xd9\xa1 := 1 }}{{ $x\xd9\xa1 }}", "1"},
    {"{{ $\xc3\xa9\xe4\xb8\xad := 2 }}{{ $\xc3\xa9\xe4\xb8\xad }}", "2"},
};

int main(void)
{
    for (size_t i = 0; i < ND_ARRAY_LEN(cases); i++)
        is_str(tt_render(cases[i].text), cases[i].want, "lex #%zu", i);
    return done_testing();
}
