// SuiteSparse KLU (Debian's libsuitesparse-dev), the sparse direct LU that CVODE and AMICI use for
// large Newton matrices. Debian installs its headers under suitesparse/.
#include <suitesparse/klu.h>
