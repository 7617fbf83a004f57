/*
 * examples/common/options.h: the command line of mcmscu and mcmscp, from one table per tool.
 *
 * Each tool describes its options once, in an array of tool_option rows (spellings, value, help);
 * getopt_long_only's option array and the option part of --help are both made from that array, so
 * the parser and the usage text cannot disagree, and build-aux/check-tool-options.sh holds the
 * man page to the same list. The same for exit codes (tool_exit_code). Linked into each tool; it
 * uses libc only, never the library.
 *
 * The spellings are DCMTK's (dcmnet/apps/storescu.cc): some options have one dash and several
 * letters (-aet, -aec), single letters are never bundled (-vd is not -v -d), and GNU long options
 * take their value as --name=value or --name value. Only the exact spellings in the table are
 * options: no abbreviations (--lab is not --label), no other number of dashes (--aet, -label).
 * Options and positional arguments mix in any order; "--" ends the options.
 */
#ifndef MCM_TOOL_OPTIONS_H
#define MCM_TOOL_OPTIONS_H

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>

/* One row of a tool's option table. */
typedef struct tool_option {
    int id;               /* > 0: returned by tool_parse_next for this option; 0: a heading for --help */
    const char *names[2]; /* the spellings as typed ("-aet", "--aetitle"); the second may be NULL.
                           * For a heading: NULL, NULL */
    const char *argument; /* the value's name in --help ("TITLE"), or NULL for a flag */
    const char *help;     /* the --help text (a heading's: "network:"); '\n' starts a continued line */
} tool_option;

/* One exit code and its few words for the --help summary ("3 network error"). */
typedef struct tool_exit_code {
    int code;
    const char *summary;
} tool_exit_code;

/* A tool lists its exit codes once, as X(NAME, CODE, "summary") in a macro LIST(X):
 *   enum exit_code { LIST(TOOL_EXIT_ENUM) };
 *   static const tool_exit_code exit_codes[] = {LIST(TOOL_EXIT_ROW)};
 * gives the enum the code uses and the table --help prints. */
#define TOOL_EXIT_ENUM(name, code, summary) name = (code),
#define TOOL_EXIT_ROW(name, code, summary) {(code), (summary)},

/* What tool_parse_next returns, besides a row's id (> 0). */
enum {
    TOOL_PARSE_END = 0,               /* no more arguments */
    TOOL_PARSE_POSITIONAL = -1,       /* parser->value is a positional argument */
    TOOL_PARSE_UNKNOWN = -2,          /* parser->name is not an option */
    TOOL_PARSE_MISSING_VALUE = -3,    /* parser->name needs a value and is the last argument */
    TOOL_PARSE_UNEXPECTED_VALUE = -4, /* parser->name=VALUE, but parser->name takes no value (or is unknown) */
    TOOL_PARSE_NO_MEMORY = -5         /* tool_parser_init could not allocate */
};

typedef struct tool_parser {
    int argc;
    char **argv;
    const tool_option *options;
    size_t count;
    struct option *long_options; /* getopt_long_only's array, one entry per spelling */
    const tool_option **rows;    /* rows[k]: the row of long_options[k] */
    const char **spellings;      /* spellings[k]: long_options[k]'s name as typed, dashes included */
    int after_dashes;            /* "--" was seen: the rest is positional */
    const char *value;           /* the option's value (NULL for a flag), or the positional argument */
    char name[64];               /* the option as typed, "=value" cut off (truncated: it goes in messages) */
} tool_parser;

/* Prepare to parse argv with the given table. Returns 0, or TOOL_PARSE_NO_MEMORY. */
int tool_parser_init(tool_parser *parser, const tool_option *options, size_t count, int argc, char **argv);

/* The next argument, in the order given: a row's id (value in parser->value), TOOL_PARSE_POSITIONAL,
 * TOOL_PARSE_END, or an error (TOOL_PARSE_UNKNOWN, _MISSING_VALUE, _UNEXPECTED_VALUE) with the
 * option as typed in parser->name. After an error, stop. */
int tool_parse_next(tool_parser *parser);

void tool_parser_free(tool_parser *parser);

/* --help's option part: headings, then each option's spellings and value name with its help text
 * from column `column` (the text moves to the next line when the names are too long). */
void tool_print_options(FILE *out, const tool_option *options, size_t count, int column);

/* --help's last paragraph: "exit codes: 0 done, 1 job failed, ..." wrapped to 100 columns. */
void tool_print_exit_codes(FILE *out, const tool_exit_code *codes, size_t count);

#endif
