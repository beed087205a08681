/* Decode-step attention over a bfloat16 key/value cache, for LlamaRunner (AVX-512).
 *
 * One query token per row; the query heads that share a key/value head (`G` of them) are
 * attended together, so each key and value is read and widened to float32 once. A row
 * attends over exactly its own `lens[r]` columns: its result depends on nothing else (no
 * neighbour, no padding, no thread split), and the arithmetic is written out in a fixed
 * order (no FMA contraction the compiler may choose: built with -ffp-contract=off), so
 * it is the same on every AVX-512 machine. Accumulation is in float32. */
#include <immintrin.h>
#include <math.h>
#include <stdint.h>

#define MAX_G 16
#define MAX_D 256

/* exp(x) of 16 values x <= 0 as 2^(x log2 e): range reduction, a degree-6 polynomial
 * (relative error about 2e-7) and an exact scaling by 2^n, in explicit fused
 * multiply-adds, so the result does not depend on the C library or the compiler */
static inline __m512 exp_neg16(__m512 x) {
    const __m512 t = _mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f));
    const __m512 n = _mm512_roundscale_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m512 f = _mm512_sub_ps(t, n); /* in [-0.5, 0.5] */
    __m512 p = _mm512_set1_ps(1.535336188319500e-4f);
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.339887440266574e-3f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(9.618437357674640e-3f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(5.550332471162809e-2f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(2.402264791363012e-1f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(6.931472028550421e-1f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0f));
    const __mmask16 tiny = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-87.0f), _CMP_LT_OQ);
    return _mm512_maskz_mov_ps((__mmask16)~tiny, _mm512_scalef_ps(p, n));
}

/* 16 bfloat16 values widened to float32 (exact) */
static inline __m512 widen16(const uint16_t *p) {
    __m256i h = _mm256_loadu_si256((const __m256i *)p);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

/* one (row, key/value head): `J` 16-wide chunks per head (a constant where it is called,
 * so the chunks stay in registers) */
static inline void attend_head(const float *qh, const uint16_t *kb, const uint16_t *vb, int64_t s_col,
                               int L, int G, const int J, float scale, float *scores, float *oh) {
    float qs[MAX_G * MAX_D];
    const int D = 16 * J;
    for (int i = 0; i < G * D; i++) qs[i] = qh[i] * scale;
    float mx[MAX_G];
    for (int g = 0; g < G; g++) mx[g] = -INFINITY;
    /* scores: two accumulators (even and odd chunks), then one sum */
    for (int l = 0; l < L; l++) {
        const uint16_t *kl = kb + l * s_col;
        __m512 kw[MAX_D / 16];
        for (int j = 0; j < J; j++) kw[j] = widen16(kl + 16 * j);
        for (int g = 0; g < G; g++) {
            const float *qg = qs + g * D;
            __m512 a = _mm512_mul_ps(_mm512_loadu_ps(qg), kw[0]);
            __m512 b = _mm512_setzero_ps();
            if (J > 1) b = _mm512_mul_ps(_mm512_loadu_ps(qg + 16), kw[1]);
            for (int j = 2; j < J; j += 2) {
                a = _mm512_fmadd_ps(_mm512_loadu_ps(qg + 16 * j), kw[j], a);
                if (j + 1 < J) b = _mm512_fmadd_ps(_mm512_loadu_ps(qg + 16 * j + 16), kw[j + 1], b);
            }
            float s = _mm512_reduce_add_ps(_mm512_add_ps(a, b));
            scores[g * L + l] = s;
            if (s > mx[g]) mx[g] = s;
        }
    }
    /* per query head: softmax weights, then the weighted values, normalised at the end */
    for (int g = 0; g < G; g++) {
        float *sg = scores + g * L;
        const __m512 m = _mm512_set1_ps(mx[g]);
        __m512 acc = _mm512_setzero_ps(); /* 16 partial sums, added in a fixed order */
        for (int l = 0; l < L; l += 16) {
            const __mmask16 live = L - l >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (L - l)) - 1u);
            const __m512 e = exp_neg16(_mm512_sub_ps(_mm512_maskz_loadu_ps(live, sg + l), m));
            _mm512_mask_storeu_ps(sg + l, live, e);
            acc = _mm512_mask_add_ps(acc, live, acc, e);
        }
        const float sum = _mm512_reduce_add_ps(acc);
        __m512 o[MAX_D / 16];
        for (int j = 0; j < J; j++) o[j] = _mm512_setzero_ps();
        for (int l = 0; l < L; l++) {
            const uint16_t *vl = vb + l * s_col;
            __m512 p = _mm512_set1_ps(sg[l]);
            for (int j = 0; j < J; j++) o[j] = _mm512_fmadd_ps(p, widen16(vl + 16 * j), o[j]);
        }
        __m512 iv = _mm512_set1_ps(1.0f / sum);
        for (int j = 0; j < J; j++) _mm512_storeu_ps(oh + g * D + 16 * j, _mm512_mul_ps(o[j], iv));
    }
}

/* q: [n, kvh, G, D] float32, contiguous. K, V: bfloat16 with element strides for the row,
 * the head and the column (the head dimension is contiguous). lens[r]: the columns row r
 * attends over (at least 1). scores: G * max(lens) floats of scratch. out: like q.
 * Returns 0, or -1 for a shape it does not take (D not a multiple of 16 or above MAX_D,
 * G above MAX_G). */
int assay_decode_attention(const float *q, const uint16_t *K, const uint16_t *V,
                           int64_t s_row, int64_t s_head, int64_t s_col, const int32_t *lens,
                           int n, int kvh, int G, int D, float scale, float *scores, float *out) {
    if (D % 16 != 0 || D > MAX_D || G > MAX_G || G < 1) return -1;
    for (int r = 0; r < n; r++) {
        for (int h = 0; h < kvh; h++) {
            int64_t at = ((int64_t)r * kvh + h) * G * D;
            const uint16_t *kb = K + r * s_row + h * s_head, *vb = V + r * s_row + h * s_head;
            if (D == 64)
                attend_head(q + at, kb, vb, s_col, lens[r], G, 4, scale, scores, out + at);
            else if (D == 128)
                attend_head(q + at, kb, vb, s_col, lens[r], G, 8, scale, scores, out + at);
            else
                attend_head(q + at, kb, vb, s_col, lens[r], G, D / 16, scale, scores, out + at);
        }
    }
    return 0;
}
