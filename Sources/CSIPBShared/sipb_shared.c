/* The functions are inline in include/sipb_shared.h; SwiftPM wants a source file. */
#include "sipb_shared.h"
