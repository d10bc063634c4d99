/* templates.h: the files of `raas app init --template` (nom/vm/templates/), compiled into
 * raas-image by nom/vm/CMakeLists.txt (templates.c). A template's main.c is prelude.c, its
 * handler (TEMPLATE.c) and skeleton.c, in that order, with @APP@, @TEMPLATE@ and @SUMMARY@
 * replaced; its utility config is TEMPLATE.ini. */
#ifndef NOMVM_TEMPLATES_H
#define NOMVM_TEMPLATES_H

struct vm_template_file {
	const char *name;
	const char *text;
};

/* Ends with {NULL, NULL}. */
extern const struct vm_template_file vm_template_files[];

#endif
