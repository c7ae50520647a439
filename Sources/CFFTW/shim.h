#pragma once
/* FFTW 3, single precision (fftwf_*): the Fourier image parameterization of feature
   visualization. Only ConvVizCore's RealFFT2D imports this module. */
#include <fftw3.h>
