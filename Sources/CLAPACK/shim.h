// LAPACK's Fortran entry points (dgetrf_, dgetrs_, dgeev_) come from lapack.h via lapacke.h;
// openblas_set_num_threads comes from OpenBLAS's cblas.h.
#include <lapacke.h>
#include <cblas.h>
