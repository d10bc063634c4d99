/* app.h: `raas app` (app.c), called by raas-image's main for "raas app ARGS". */
#ifndef NOMVM_APP_H
#define NOMVM_APP_H
/* argv[0] is "app"; self_dir: where raas-image is (its raas-image is run for the image).
 * Returns the exit code. */
int vm_app_main(int argc, char **argv, const char *self_dir);
#endif
