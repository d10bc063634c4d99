/* app.c: `raas app init` and `raas app build`: from nothing to a nom app in an image.
 *
 *   raas app init NAME [--template T] [--dir DIR]   a folder DIR (default NAME) with a
 *       CMake project against the installed libnom (pkg-config nom.pc), a main.c that bids
 *       for bandwidth and adapts to its price, its utility config (NAME.ini) and a README
 *   raas app build [--prefix PREFIX]   in that folder: cmake builds the app (pkg-config finds
 *       PREFIX/lib/pkgconfig, default $RAAS_PREFIX), then an image with it and its config
 *       (raas image build: build/image)
 * deploy, logs and stop: app_deploy.c. Templates: minimal (here), http, memcached and
 * pingpong (nom/vm/templates/, compiled in: templates.h). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "app.h"
#include "templates.h"

static const char main_c[] =
	"/* main.c: %s, a nom app: holds bandwidth while it is worth its price to it.\n"
	" *\n"
	" * Its utility (%s.ini): value_per_mbit_hour dollars for each of want_mbit Mbit/s. Each\n"
	" * second it reads the posted price of bandwidth from its instance's board (libnom) and\n"
	" * acquires want_mbit while the price is below its value, releases it when not. */\n"
	"#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n#include <unistd.h>\n"
	"#include <nom/nom.h>\n\n"
	"static double value = 10.0;\nstatic long want = 5;\n\n"
	"static void load(const char *path)\n{\n"
	"\tFILE *f = fopen(path, \"r\");\n\tchar line[256];\n"
	"\twhile (f && fgets(line, sizeof(line), f)) {\n"
	"\t\tsscanf(line, \"value_per_mbit_hour = %%lf\", &value);\n"
	"\t\tsscanf(line, \"want_mbit = %%ld\", &want);\n\t}\n\tif (f)\n\t\tfclose(f);\n}\n\n"
	"int main(int argc, char **argv)\n{\n"
	"\tconst char *instance = argc > 1 ? argv[1] : getenv(\"NOM_INSTANCE\");\n"
	"\tconst char *host = getenv(\"NOM_HOST\"); /* nom-vm-init sets both */\n"
	"\tif (!instance || !host) {\n\t\tfprintf(stderr, \"usage: NOM_HOST=HOST %s INSTANCE [CONFIG]\\n\");\n\t\treturn 64;\n\t}\n"
	"\tload(argc > 2 ? argv[2] : \"/etc/nom/%s.ini\");\n"
	"\tstruct nom *nom;\n\tint r = nom_open(instance, NULL, &nom);\n"
	"\tif (r) {\n\t\tfprintf(stderr, \"%s: %%s: %%s\\n\", instance, nom_strerror(r));\n\t\treturn 69;\n\t}\n"
	"\tlong held = 0;\n\tfor (;;) {\n"
	"\t\tstruct nom_price_info p;\n"
	"\t\tif (nom_price(nom, NOM_BANDWIDTH, host, &p) == 0 && !p.stale) {\n"
	"\t\t\tint64_t limit = (int64_t)(value * 1e9);\n"
	"\t\t\tif (p.unit_price <= limit && held == 0 &&\n"
	"\t\t\t    nom_acquire(nom, NOM_BANDWIDTH, host, want, limit) == 0)\n"
	"\t\t\t\theld = want;\n"
	"\t\t\telse if (p.unit_price > limit && held > 0 &&\n"
	"\t\t\t\t nom_release(nom, NOM_BANDWIDTH, host, 0) == 0)\n"
	"\t\t\t\theld = 0;\n"
	"\t\t\tprintf(\"{\\\"app\\\":\\\"%s\\\",\\\"price\\\":%%lld,\\\"held_mbit\\\":%%ld}\\n\",\n"
	"\t\t\t       (long long)p.unit_price, held);\n\t\t\tfflush(stdout);\n\t\t}\n"
	"\t\tsleep(1);\n\t}\n}\n";

static const char cmake_txt[] =
	"# %s: a nom app built against the installed libnom (pkg-config nom).\n"
	"cmake_minimum_required(VERSION 3.16)\nproject(%s C)\n"
	"find_package(PkgConfig REQUIRED)\n"
	"pkg_check_modules(NOM REQUIRED IMPORTED_TARGET nom)\n"
	"add_executable(%s main.c)\ntarget_link_libraries(%s PRIVATE PkgConfig::NOM)\n";

static const char ini_txt[] = "# %s's utility: what a Mbit/s-hour of bandwidth is worth to it, and how much.\n"
			      "value_per_mbit_hour = 10\nwant_mbit = 5\n";

static const char readme_txt[] =
	"# %s\n\nA nom app made by `raas app init`. `raas app build` builds it against the\n"
	"installed libnom and makes a VM image with it (build/image; `raas image inspect\n"
	"build/image`). In the VM's config drive: `[app.%s] run = %s INSTANCE`.\n";

static int write_file(const char *dir, const char *name, const char *fmt, const char *app)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wx");
	if (!f) {
		fprintf(stderr, "raas app init: %s: %s\n", path, strerror(errno));
		return EX_CANTCREAT;
	}
	/* Every %s of the templates is the app's name. */
	fprintf(f, fmt, app, app, app, app, app, app, app, app);
	if (fclose(f) != 0) {
		fprintf(stderr, "raas app init: %s: %s\n", path, strerror(errno));
		return EX_CANTCREAT;
	}
	return 0;
}

/* The templates beside minimal: name, what it is (for main.c's header and the README), and
 * how a client reaches it from the host (the README). */
static const struct {
	const char *name, *summary, *client;
} templates[] = {
	{"http", "an HTTP/1.1 server (GET with keep-alive, 16 KiB answers, port 8080) that holds "
		 "the bandwidth its clients use while it is worth its price",
	 "curl http://ADDRESS:8080/ or wrk -c 8 -d 10s http://ADDRESS:8080/"},
	{"memcached", "a memcached (the text protocol's get and set, port 11211) that holds the "
		      "bandwidth its clients use while it is worth its price",
	 "printf 'set k 0 0 2\\r\\nhi\\r\\nget k\\r\\n' | nc -q 1 ADDRESS 11211, or memcaslap"},
	{"pingpong", "a ping-pong server (each line sent back, port 7000) that holds the bandwidth "
		     "its clients use while it is worth its price",
	 "echo ping | nc -q 1 ADDRESS 7000, or NPtcp"},
};

static const char *template_file(const char *name)
{
	for (const struct vm_template_file *f = vm_template_files; f->name; f++)
		if (strcmp(f->name, name) == 0)
			return f->text;
	return NULL;
}

/* Writes dir/name: text with @APP@, @TEMPLATE@ and @SUMMARY@ replaced. */
static int write_text(const char *dir, const char *name, const char *text, const char *app,
		      const char *tmpl, const char *summary)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wx");
	if (!f) {
		fprintf(stderr, "raas app init: %s: %s\n", path, strerror(errno));
		return EX_CANTCREAT;
	}
	static const char *const keys[] = {"@APP@", "@TEMPLATE@", "@SUMMARY@"};
	const char *vals[] = {app, tmpl, summary};
	for (const char *p = text; *p;) {
		size_t k = 0;
		while (k < 3 && strncmp(p, keys[k], strlen(keys[k])) != 0)
			k++;
		if (k < 3) {
			fputs(vals[k], f);
			p += strlen(keys[k]);
		} else {
			fputc(*p++, f);
		}
	}
	if (fclose(f) != 0) {
		fprintf(stderr, "raas app init: %s: %s\n", path, strerror(errno));
		return EX_CANTCREAT;
	}
	return 0;
}

static const char tmpl_readme[] =
	"# @APP@\n\nA nom app made by `raas app init --template @TEMPLATE@`: @SUMMARY@.\n\n"
	"- `main.c`: its request handler, then what every template shares: each second it\n"
	"  measures what it sent, wants that times `headroom` (within `min_mbit`..`max_mbit`),\n"
	"  and holds it through libnom while the posted price is at most `value_per_mbit_hour`.\n"
	"- `@APP@.ini`: that utility (installed in the image as /etc/nom/@APP@.ini).\n\n"
	"`raas app build` builds it against the installed libnom and makes a VM image with it\n"
	"(build/image); `raas app deploy --tenant T ...` boots it as T's VM through its host's\n"
	"agent, `raas app logs` shows its console (a JSON line a second), `raas app stop`.\n"
	"A client from the host: @CLIENT@.\n";

/* raas app init --template http|memcached|pingpong. */
static int init_from_template(const char *dir, const char *name, size_t t)
{
	char main_text[65536], readme[4096], ini[80], tini[64], handler[64];
	snprintf(handler, sizeof(handler), "%s.c", templates[t].name);
	snprintf(tini, sizeof(tini), "%s.ini", templates[t].name);
	const char *pre = template_file("prelude.c"), *h = template_file(handler),
		   *sk = template_file("skeleton.c"), *cfg = template_file(tini);
	if (!pre || !h || !sk || !cfg ||
	    snprintf(main_text, sizeof(main_text), "%s%s%s", pre, h, sk) >= (int)sizeof(main_text)) {
		fprintf(stderr, "raas app init: template %s is not built into raas-image\n",
			templates[t].name);
		return EX_SOFTWARE;
	}
	/* The README's client line is the template's, the rest shared. */
	const char *at = strstr(tmpl_readme, "@CLIENT@");
	snprintf(readme, sizeof(readme), "%.*s%s%s", (int)(at - tmpl_readme), tmpl_readme,
		 templates[t].client, at + strlen("@CLIENT@"));
	snprintf(ini, sizeof(ini), "%s.ini", name);
	int rc;
	if ((rc = write_text(dir, "main.c", main_text, name, templates[t].name,
			     templates[t].summary)) ||
	    (rc = write_file(dir, "CMakeLists.txt", cmake_txt, name)) ||
	    (rc = write_text(dir, ini, cfg, name, templates[t].name, templates[t].summary)) ||
	    (rc = write_text(dir, "README.md", readme, name, templates[t].name,
			     templates[t].summary)))
		return rc;
	return 0;
}

static bool valid_name(const char *s)
{
	if (!*s || strlen(s) > 32)
		return false;
	for (; *s; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= '0' && *s <= '9') && *s != '-' && *s != '_')
			return false;
	return true;
}

static int app_init(int argc, char **argv)
{
	static const struct option opts[] = {{"template", required_argument, NULL, 't'},
					     {"dir", required_argument, NULL, 'd'},
					     {NULL, 0, NULL, 0}};
	const char *tmpl = "minimal", *dir = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 't')
			tmpl = optarg;
		else if (c == 'd')
			dir = optarg;
		else
			return EX_USAGE;
	}
	if (optind != argc - 1 || !valid_name(argv[optind])) {
		fprintf(stderr, "raas app init: NAME (a-z, 0-9, - and _, at most 32) is required\n");
		return EX_USAGE;
	}
	size_t t = sizeof(templates) / sizeof(templates[0]);
	if (strcmp(tmpl, "minimal") != 0) {
		for (t = 0; t < sizeof(templates) / sizeof(templates[0]); t++)
			if (strcmp(tmpl, templates[t].name) == 0)
				break;
		if (t == sizeof(templates) / sizeof(templates[0])) {
			fprintf(stderr, "raas app init: --template %s: not minimal, http, memcached "
					"or pingpong\n", tmpl);
			return EX_USAGE;
		}
	}
	const char *name = argv[optind];
	if (!dir)
		dir = name;
	if (mkdir(dir, 0755) != 0) {
		fprintf(stderr, "raas app init: %s: %s\n", dir, strerror(errno));
		return EX_CANTCREAT;
	}
	char ini[64];
	snprintf(ini, sizeof(ini), "%s.ini", name);
	int rc;
	if (t < sizeof(templates) / sizeof(templates[0])) {
		if ((rc = init_from_template(dir, name, t)) != 0)
			return rc;
		printf("%s: a nom app in %s (template %s); cd %s && raas app build\n", name, dir,
		       tmpl, dir);
		return 0;
	}
	if ((rc = write_file(dir, "main.c", main_c, name)) || (rc = write_file(dir, "CMakeLists.txt", cmake_txt, name)) ||
	    (rc = write_file(dir, ini, ini_txt, name)) || (rc = write_file(dir, "README.md", readme_txt, name)))
		return rc;
	printf("%s: a nom app in %s (template %s); cd %s && raas app build\n", name, dir, tmpl, dir);
	return 0;
}

int vm_app_name(char *out, size_t len)
{
	FILE *f = fopen("CMakeLists.txt", "r");
	char line[256];
	int found = -1;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "project(%63[a-z0-9_-]", out) == 1 && strlen(out) < len) {
			found = 0;
			break;
		}
	if (f)
		fclose(f);
	return found;
}

static int app_build(int argc, char **argv, const char *self_dir)
{
	static const struct option opts[] = {{"prefix", required_argument, NULL, 'p'},
					     {NULL, 0, NULL, 0}};
	const char *prefix = getenv("RAAS_PREFIX");
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'p')
			prefix = optarg;
		else
			return EX_USAGE;
	}
	char name[64];
	if (vm_app_name(name, sizeof(name)) != 0) {
		fprintf(stderr, "raas app build: no CMakeLists.txt with project(NAME) here (raas app init)\n");
		return EX_NOINPUT;
	}
	char cmd[3 * PATH_MAX];
	if (prefix)
		snprintf(cmd, sizeof(cmd), "PKG_CONFIG_PATH='%s/lib/pkgconfig' cmake -S . -B build "
			 ">build.log 2>&1 && cmake --build build >>build.log 2>&1", prefix);
	else
		snprintf(cmd, sizeof(cmd), "cmake -S . -B build >build.log 2>&1 && cmake --build build "
			 ">>build.log 2>&1");
	if (system(cmd) != 0) {
		fprintf(stderr, "raas app build: cmake failed (build.log):\n");
		if (system("tail -n 15 build.log >&2") != 0)
			return EX_SOFTWARE;
		return EX_SOFTWARE;
	}
	snprintf(cmd, sizeof(cmd), "'%s/raas-image' build --force --app build/%s --file %s.ini=/etc/nom/%s.ini "
		 "--out build/image", self_dir, name, name, name);
	int st = system(cmd);
	return st == 0 ? 0 : (WIFEXITED(st) ? WEXITSTATUS(st) : EX_SOFTWARE);
}

int vm_app_main(int argc, char **argv, const char *self_dir)
{
	if (argc >= 2 && strcmp(argv[1], "init") == 0)
		return app_init(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "build") == 0)
		return app_build(argc - 1, argv + 1, self_dir);
	if (argc >= 2 && (strcmp(argv[1], "deploy") == 0 || strcmp(argv[1], "logs") == 0 ||
			  strcmp(argv[1], "stop") == 0))
		return vm_app_deploy_main(argc - 1, argv + 1, self_dir);
	fprintf(stderr, "usage: raas app init NAME [--template minimal|http|memcached|pingpong] "
			"[--dir DIR]\n"
			"       raas app build [--prefix PREFIX]\n"
			"       raas app deploy --tenant T --agent-config AGENT.ini --agent-pid FILE "
			"--key T.key\n"
			"                       --address A/LEN --gateway G --bridge BR [--host H] "
			"[--vcpus N]\n"
			"                       [--memory-mib M] [--vm-type auto|kvm|qemu] "
			"[--timeout S]\n"
			"       raas app logs [--tenant T]\n"
			"       raas app stop [--tenant T]\n");
	return EX_USAGE;
}
