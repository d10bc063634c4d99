/* app.h: `raas app` (app.c), called by raas-image's main for "raas app ARGS". */
#ifndef NOMVM_APP_H
#define NOMVM_APP_H
#include <stddef.h>
/* argv[0] is "app"; self_dir: where raas-image is (its raas-image is run for the image).
 * Returns the exit code. */
int vm_app_main(int argc, char **argv, const char *self_dir);
/* raas app deploy|logs|stop (app_deploy.c); argv[0] is the command. */
int vm_app_deploy_main(int argc, char **argv, const char *self_dir);
/* The app's name: the project() of ./CMakeLists.txt. 0, or -1 when there is none. */
int vm_app_name(char *out, size_t len);
#endif
