/* main.c - entry of calsync-worker (placeholder until the worker pool lands). */
#include <stdio.h>

#include "banned.h"

int main(void)
{
	fputs("calsync-worker: not built yet\n", stderr);
	return 1;
}
