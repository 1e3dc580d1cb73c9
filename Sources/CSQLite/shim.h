#ifndef SHOAL_CSQLITE_SHIM_H
#define SHOAL_CSQLITE_SHIM_H
#include <sqlite3.h>
#endif
