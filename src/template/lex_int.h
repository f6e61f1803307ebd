/* lex_int.h - the items of the template lexer (lex.c), read by the parser
 * (parse.c). Internal to src/template. */
#ifndef NOTIFYD_TMPL_LEX_INT_H
#define NOTIFYD_TMPL_LEX_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "tmpl_int.h"

/* Go's itemType, in Go's order: item_string() tells keywords by I_KEYWORD. */
enum itype {
    I_ERROR,
    I_BOOL,
    I_CHAR,
    I_CHARCONST,
    I_COMPLEX,
    I_ASSIGN,
    I_DECLARE,
    I_EOF,
    I_FIELD,
    I_IDENT,
    I_LDELIM,
    I_LPAREN,
    I_NUMBER,
    I_PIPE,
    I_RAWSTRING,
    I_RDELIM,
    I_RPAREN,
    I_SPACE,
    I_STRING,
    I_TEXT,
    I_VARIABLE,
    I_KEYWORD, /* keywords follow */
    I_BLOCK,
    I_BREAK,
    I_CONTINUE,
    I_DOT,
    I_DEFINE,
    I_ELSE,
    I_END,
    I_IF,
    I_NIL,
    I_RANGE,
    I_TEMPLATE,
    I_WITH,
};

struct item {
    int typ;
    size_t pos;
    struct tstr val;
    int line;
};

struct lexer {
    const char *in;
    size_t len, pos, start;
    int line, start_line;
    bool at_eof;
    int paren;
    struct item *items;
    size_t nitems, capitems;
    struct tarena *arena;
    bool done;
};

/* Lexes l->in[0..len) into l->items (grown with nd_xrealloc, freed by the
 * caller); error texts live in l->arena. The caller sets in, len, arena and
 * line = start_line = 1, the rest zero. The last item is I_EOF or I_ERROR. */
void nd_tmpl__lex(struct lexer *l);

#endif
