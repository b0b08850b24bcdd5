#ifndef PARLEY_VECTOR_KERNELS_H
#define PARLEY_VECTOR_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/// The instruction sets the int8 dot products can use. `parley_int8_kernel_best` picks the fastest the processor
/// and the operating system support; the others exist so tests can check each one against the portable loop.
typedef enum {
    parley_int8_kernel_portable = 0,
    parley_int8_kernel_avx2 = 1,
    parley_int8_kernel_avx512_vnni = 2,
} parley_int8_kernel;

/// The fastest kernel this machine runs (decided once).
parley_int8_kernel parley_int8_kernel_best(void);

/// Whether this machine can run `kernel`.
int parley_int8_kernel_available(parley_int8_kernel kernel);

/// `out[r]` = Σ query[i]·rows[r·stride + i] for i < `length`, for each of `count` rows, with `kernel` (which must be
/// available). Every code must lie in -127…127 (the vector kernels negate codes, and -128 has no negation).
void parley_int8_dots(parley_int8_kernel kernel, const int8_t *query, const int8_t *rows, size_t length,
                      size_t stride, size_t count, int32_t *out);

/// Σ a[i]·b[i] for i < `length`, with the best kernel. The same rule on codes.
int32_t parley_int8_dot(const int8_t *a, const int8_t *b, size_t length);

/// Dot products with 4-bit codes, for a first pass over a large base that reads half the bytes of the int8 scan.
/// Each row is `blocks` blocks of 64 bytes; byte j of block b holds the code of dimension 128·b + j in its low four
/// bits and that of dimension 128·b + 64 + j in its high four bits, each code unsigned (0…15). `query` holds
/// 128·`blocks` int8 codes (-127…127). `out[r]` = Σ query[i]·code(r, i), for each of `count` rows, with `kernel`.
void parley_nibble_dots(parley_int8_kernel kernel, const int8_t *query, const uint8_t *rows, size_t blocks,
                        size_t count, int32_t *out);

#endif
