/* cli_main.c - a standalone `notifyd template` for tests and the corpus
 * runner, until the daemon's main() dispatches to nd_template_cli(). */
#include <stdio.h>

#include "notifyd/template.h"

int main(int argc, char **argv)
{
    return nd_template_cli(argc, argv, stdout, stderr);
}
