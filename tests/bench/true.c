/* The benchmark's /bin/true: built with -static, so an exec of it costs the same on every
 * backend (no ELF loader, no shared libraries to open and map). */
int main(void)
{
	return 0;
}
