/* The one table of environment names refused in a lease's `env` (policy/envnames.h).
 * A deny list cannot be complete; it names the loaders and interpreters a Debian host
 * ships or commonly installs and the tools that run a command named in a variable. Whole
 * prefixes where an interpreter keeps adding names (PYTHON*, PERL*, RUBY*, NODE_*, LUA_*),
 * exact names where a prefix would refuse harmless ones (GIT_AUTHOR_NAME). */
#include "policy/envnames.h"

#include <string.h>

const struct envname_rule envname_rules[] = {
	/* the loader and libc */
	{ "LD_*", "the dynamic loader: libraries preloaded (LD_PRELOAD), searched (LD_LIBRARY_PATH), audit modules (LD_AUDIT)" },
	{ "GLIBC_TUNABLES", "glibc tunables, parsed by the loader before main" },
	{ "GCONV_PATH", "where iconv loads its conversion modules (shared objects) from" },
	{ "LOCPATH", "where setlocale reads its locale data files from" },
	{ "NLSPATH", "where catopen reads message catalogues from" },
	{ "HOSTALIASES", "a file the resolver reads host aliases from" },
	/* shells */
	{ "BASH_ENV", "a file a non-interactive bash runs before its script" },
	{ "ENV", "a file sh (dash), ksh and bash in POSIX mode run at start" },
	{ "SHELLOPTS", "bash options set at start (xtrace makes PS4 run)" },
	{ "BASHOPTS", "bash shopt options set at start" },
	{ "PS4", "expanded before each traced command, command substitutions included" },
	{ "PROMPT_COMMAND", "a command an interactive bash runs before each prompt" },
	{ "BASH_LOADABLES_PATH", "where bash's enable -f loads builtins (shared objects) from" },
	{ "ZDOTDIR", "the directory zsh runs its startup files from" },
	{ "FPATH", "where zsh and ksh load autoloaded functions from" },
	/* interpreters */
	{ "PYTHON*", "the Python interpreter's start: PYTHONPATH, PYTHONHOME, PYTHONSTARTUP, PYTHONUSERBASE (.pth files), PYTHONWARNINGS and PYTHONBREAKPOINT (import by name), PYTHONINSPECT; each version adds names" },
	{ "PERL*", "perl's start: PERL5OPT (switches, -M loads a module), PERL5LIB and PERLLIB (module path), PERL5DB (debugger code)" },
	{ "RUBY*", "ruby's start: RUBYOPT (switches, -r loads a library), RUBYLIB (library path)" },
	{ "NODE_*", "node's start: NODE_OPTIONS (--require loads a module), NODE_PATH (module path)" },
	{ "NPM_CONFIG_*", "npm's configuration (scripts, node options, the registry)" },
	{ "LUA_*", "lua's start: LUA_INIT (a file or code run first, also versioned), LUA_PATH, LUA_CPATH" },
	{ "TCLLIBPATH", "where Tcl loads packages from" },
	{ "PHPRC", "where PHP reads php.ini from (auto_prepend_file runs code)" },
	{ "PHP_INI_SCAN_DIR", "more php.ini files PHP reads" },
	{ "R_PROFILE", "a file R runs at start" },
	{ "R_PROFILE_USER", "a file R runs at start" },
	{ "R_ENVIRON", "a file R reads variables from at start (R_PROFILE_USER among them)" },
	{ "R_ENVIRON_USER", "a file R reads variables from at start (R_PROFILE_USER among them)" },
	{ "JAVA_TOOL_OPTIONS", "JVM options (-javaagent loads code)" },
	{ "_JAVA_OPTIONS", "JVM options (-javaagent loads code)" },
	{ "JDK_JAVA_OPTIONS", "java launcher options (-javaagent loads code)" },
	{ "CLASSPATH", "where the JVM loads classes from" },
	{ "DOTNET_STARTUP_HOOKS", "assemblies .NET runs before Main" },
	{ "CORECLR_*", "the .NET runtime: a profiler library it loads (CORECLR_PROFILER_PATH)" },
	/* tools that run a command or load a module named in the environment */
	{ "GIT_CONFIG*", "git configuration (GIT_CONFIG_GLOBAL, GIT_CONFIG_PARAMETERS, GIT_CONFIG_COUNT/KEY_n/VALUE_n): core.pager, core.fsmonitor, aliases run commands" },
	{ "GIT_DIR", "a repository whose configuration and hooks git obeys" },
	{ "GIT_COMMON_DIR", "a repository whose configuration and hooks git obeys" },
	{ "GIT_TEMPLATE_DIR", "hooks git copies into a new repository" },
	{ "GIT_EXEC_PATH", "where git runs its subcommands from" },
	{ "GIT_SSH", "a command git runs" },
	{ "GIT_SSH_COMMAND", "a command git runs" },
	{ "GIT_PROXY_COMMAND", "a command git runs" },
	{ "GIT_ASKPASS", "a command git runs" },
	{ "GIT_EDITOR", "a command git runs" },
	{ "GIT_SEQUENCE_EDITOR", "a command git runs" },
	{ "GIT_PAGER", "a command git runs" },
	{ "GIT_EXTERNAL_DIFF", "a command git runs" },
	{ "SSH_ASKPASS", "a command ssh runs" },
	{ "EDITOR", "a command programs run to edit (git and others through sh -c)" },
	{ "VISUAL", "a command programs run to edit (git and others through sh -c)" },
	{ "PAGER", "a command programs run to page output (through sh -c)" },
	{ "MANPAGER", "a command man runs (through sh -c)" },
	{ "LESSOPEN", "an input preprocessor command less runs" },
	{ "LESSCLOSE", "a command less runs after LESSOPEN" },
	{ "OPENSSL_CONF", "OpenSSL configuration: engines and providers it loads (shared objects)" },
	{ "OPENSSL_ENGINES", "where OpenSSL loads engines (shared objects) from" },
	{ "OPENSSL_MODULES", "where OpenSSL loads providers (shared objects) from" },
	{ "XDG_CONFIG_HOME", "where programs read their configuration (git's among them) from" },
	{ "XDG_CONFIG_DIRS", "where programs read their configuration (git's among them) from" },
	{ "GCC_EXEC_PREFIX", "where gcc runs its compiler passes from" },
	{ "COMPILER_PATH", "where gcc runs its compiler passes from" },
};
const size_t envname_n_rules = sizeof(envname_rules) / sizeof(envname_rules[0]);

const struct envname_rule *envname_refused(const char *name)
{
	for (size_t i = 0; i < envname_n_rules; i++) {
		const char *r = envname_rules[i].name;
		size_t n = strlen(r);
		if (n && r[n - 1] == '*' ? strncmp(name, r, n - 1) == 0 : strcmp(name, r) == 0)
			return &envname_rules[i];
	}
	return NULL;
}
