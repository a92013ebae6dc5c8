/* err — names for recite's error codes (see err.h). Any thread. */
#include "util/err.h"

const char *recite_err_str(int err)
{
    switch (err) {
    case RECITE_OK:        return "success";
    case RECITE_EFAIL:     return "failed";
    case RECITE_ENOTFOUND: return "not found";
    case RECITE_EFULL:     return "out of disk space";
    case RECITE_ENOMEM:    return "out of memory";
    case RECITE_ESTOPPED:  return "shutting down";
    case RECITE_EEMPTY:    return "nothing to do";
    case RECITE_ENOTCONF:  return "not configured";
    }
    return "unknown error";
}
