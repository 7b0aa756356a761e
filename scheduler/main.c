/* main.c - entry of calsync-scheduler (placeholder until the worker pool lands). */
#include <stdio.h>

#include "banned.h"

int main(void)
{
	fputs("calsync-scheduler: not built yet\n", stderr);
	return 1;
}
