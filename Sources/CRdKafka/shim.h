#ifndef SHOAL_CRDKAFKA_SHIM_H
#define SHOAL_CRDKAFKA_SHIM_H
// rdkafka_mock.h relies on declarations from rdkafka.h, so the order matters.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#endif
