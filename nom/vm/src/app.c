/* app.c: `raas app init` and `raas app build`: from nothing to a nom app in an image.
 *
 *   raas app init NAME [--template minimal] [--dir DIR]   a folder DIR (default NAME) with a
 *       CMake project against the installed libnom (pkg-config nom.pc), a main.c that bids
 *       for bandwidth and adapts to its price, its utility config (NAME.ini) and a README
 *   raas app build [--prefix PREFIX]   in that folder: cmake builds the app (pkg-config finds
 *       PREFIX/lib/pkgconfig, default $RAAS_PREFIX), then an image with it and its config
 *       (raas image build: build/image)
 * deploy, logs and stop: app_deploy.c. Only the minimal template exists yet (docs/vm.md). */
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
	if (strcmp(tmpl, "minimal") != 0) {
		fprintf(stderr, "raas app init: --template %s: only 'minimal' exists yet\n", tmpl);
		return EX_USAGE;
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
	fprintf(stderr, "usage: raas app init NAME [--template minimal] [--dir DIR]\n"
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
