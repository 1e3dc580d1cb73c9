#include "CConsumeBaseline.h"
int shoal_placeholder(void) { return 0; }
