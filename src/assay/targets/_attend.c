/* Decode-step attention over a bfloat16 key/value cache, for LlamaRunner (AVX-512 or AVX2).
 *
 * One query token per row; the query heads that share a key/value head (`G` of them) are
 * attended together, so each key and value is read and widened to float32 once. A row
 * attends over exactly its own `lens[r]` columns: its result depends on nothing else (no
 * neighbour, no padding, no thread split), and the arithmetic is written out in a fixed
 * order (no FMA contraction the compiler may choose: built with -ffp-contract=off), so
 * it is the same on every machine that runs the same build. Accumulation is in float32.
 *
 * The work is written once over 16-float vectors (`v16`): one AVX-512 register, or a pair
 * of AVX2 registers doing the same lane-wise operations in the same order (the sums across
 * a vector follow the AVX-512 build's tree: halves, quarters, pairs, then the last two). */
#include <immintrin.h>
#include <math.h>
#include <stdint.h>

#define MAX_G 16
#define MAX_D 256

/* polynomial of exp_neg16: 2^f for f in [-0.5, 0.5] (relative error about 2e-7) */
#define EXP_C6 1.535336188319500e-4f
#define EXP_C5 1.339887440266574e-3f
#define EXP_C4 9.618437357674640e-3f
#define EXP_C3 5.550332471162809e-2f
#define EXP_C2 2.402264791363012e-1f
#define EXP_C1 6.931472028550421e-1f
/* p = that polynomial at f, in explicit fused multiply-adds (FMADD, SET1: one width's) */
#define EXP_POLY(p, f, FMADD, SET1)            \
    do {                                       \
        p = SET1(EXP_C6);                      \
        p = FMADD(p, f, SET1(EXP_C5));         \
        p = FMADD(p, f, SET1(EXP_C4));         \
        p = FMADD(p, f, SET1(EXP_C3));         \
        p = FMADD(p, f, SET1(EXP_C2));         \
        p = FMADD(p, f, SET1(EXP_C1));         \
        p = FMADD(p, f, SET1(1.0f));           \
    } while (0)

#ifdef __AVX512F__
typedef __m512 v16;
typedef __mmask16 live16; /* the lanes of a (final, partial) chunk that hold columns */
static inline v16 v_zero(void) { return _mm512_setzero_ps(); }
static inline v16 v_set1(float x) { return _mm512_set1_ps(x); }
static inline v16 v_load(const float *p) { return _mm512_loadu_ps(p); }
static inline void v_store(float *p, v16 a) { _mm512_storeu_ps(p, a); }
static inline v16 v_mul(v16 a, v16 b) { return _mm512_mul_ps(a, b); }
static inline v16 v_add(v16 a, v16 b) { return _mm512_add_ps(a, b); }
static inline v16 v_sub(v16 a, v16 b) { return _mm512_sub_ps(a, b); }
static inline v16 v_fmadd(v16 a, v16 b, v16 c) { return _mm512_fmadd_ps(a, b, c); }
static inline float v_sum(v16 a) { return _mm512_reduce_add_ps(a); }
static inline live16 v_live(int n) { return n >= 16 ? (live16)0xFFFF : (live16)((1u << n) - 1u); }
static inline v16 v_load_live(live16 m, const float *p) { return _mm512_maskz_loadu_ps(m, p); }
static inline void v_store_live(live16 m, float *p, v16 a) { _mm512_mask_storeu_ps(p, m, a); }
static inline v16 v_add_live(live16 m, v16 acc, v16 a) { return _mm512_mask_add_ps(acc, m, acc, a); }

/* 16 bfloat16 values widened to float32 (exact) */
static inline v16 widen16(const uint16_t *p) {
    __m256i h = _mm256_loadu_si256((const __m256i *)p);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

/* exp(x) of 16 values x <= 0 as 2^(x log2 e): range reduction, a degree-6 polynomial and
 * an exact scaling by 2^n, in explicit fused multiply-adds, so the result does not depend
 * on the C library or the compiler */
static inline v16 exp_neg16(v16 x) {
    const __m512 t = _mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f));
    const __m512 n = _mm512_roundscale_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m512 f = _mm512_sub_ps(t, n); /* in [-0.5, 0.5] */
    __m512 p;
    EXP_POLY(p, f, _mm512_fmadd_ps, _mm512_set1_ps);
    const __mmask16 tiny = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-87.0f), _CMP_LT_OQ);
    return _mm512_maskz_mov_ps((__mmask16)~tiny, _mm512_scalef_ps(p, n));
}
#else /* AVX2 + FMA: the same operations on two halves */
typedef struct {
    __m256 lo, hi;
} v16;
typedef v16 live16; /* all-ones lanes where a column is */
#define V2(op, a, b) ((v16){op((a).lo, (b).lo), op((a).hi, (b).hi)})
static inline v16 v_zero(void) { return (v16){_mm256_setzero_ps(), _mm256_setzero_ps()}; }
static inline v16 v_set1(float x) { return (v16){_mm256_set1_ps(x), _mm256_set1_ps(x)}; }
static inline v16 v_load(const float *p) { return (v16){_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8)}; }
static inline void v_store(float *p, v16 a) {
    _mm256_storeu_ps(p, a.lo);
    _mm256_storeu_ps(p + 8, a.hi);
}
static inline v16 v_mul(v16 a, v16 b) { return V2(_mm256_mul_ps, a, b); }
static inline v16 v_add(v16 a, v16 b) { return V2(_mm256_add_ps, a, b); }
static inline v16 v_sub(v16 a, v16 b) { return V2(_mm256_sub_ps, a, b); }
static inline v16 v_fmadd(v16 a, v16 b, v16 c) {
    return (v16){_mm256_fmadd_ps(a.lo, b.lo, c.lo), _mm256_fmadd_ps(a.hi, b.hi, c.hi)};
}
/* the AVX-512 build's order: upper half + lower half, then upper quarter + lower quarter,
 * then lanes (2, 3) + (0, 1), then lane 0 + lane 1 */
static inline float v_sum(v16 a) {
    const __m256 h = _mm256_add_ps(a.hi, a.lo);
    const __m128 q = _mm_add_ps(_mm256_extractf128_ps(h, 1), _mm256_castps256_ps128(h));
    const __m128 r = _mm_add_ps(q, _mm_shuffle_ps(q, q, _MM_SHUFFLE(1, 0, 3, 2)));
    return _mm_cvtss_f32(r) + _mm_cvtss_f32(_mm_shuffle_ps(r, r, 1));
}
static inline live16 v_live(int n) {
    const __m256i i = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), k = _mm256_set1_epi32(n);
    return (v16){_mm256_castsi256_ps(_mm256_cmpgt_epi32(k, i)),
                 _mm256_castsi256_ps(_mm256_cmpgt_epi32(k, _mm256_add_epi32(i, _mm256_set1_epi32(8))))};
}
static inline v16 v_load_live(live16 m, const float *p) {
    return (v16){_mm256_maskload_ps(p, _mm256_castps_si256(m.lo)), _mm256_maskload_ps(p + 8, _mm256_castps_si256(m.hi))};
}
static inline void v_store_live(live16 m, float *p, v16 a) {
    _mm256_maskstore_ps(p, _mm256_castps_si256(m.lo), a.lo);
    _mm256_maskstore_ps(p + 8, _mm256_castps_si256(m.hi), a.hi);
}
/* acc + a where live, acc elsewhere (acc + (+0) is acc: the sums are never -0) */
static inline v16 v_add_live(live16 m, v16 acc, v16 a) {
    return (v16){_mm256_add_ps(acc.lo, _mm256_and_ps(m.lo, a.lo)), _mm256_add_ps(acc.hi, _mm256_and_ps(m.hi, a.hi))};
}

static inline __m256 widen8(const uint16_t *p) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p)), 16));
}
/* 16 bfloat16 values widened to float32 (exact) */
static inline v16 widen16(const uint16_t *p) { return (v16){widen8(p), widen8(p + 8)}; }

/* exp_neg16 of the AVX-512 build on 8 lanes: 2^n is built in the exponent bits, which is
 * exact (n >= -126 where the result is kept), and p * 2^n rounds as scalef does */
static inline __m256 exp_neg8(__m256 x) {
    const __m256 t = _mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f));
    const __m256 n = _mm256_round_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m256 f = _mm256_sub_ps(t, n);
    __m256 p;
    EXP_POLY(p, f, _mm256_fmadd_ps, _mm256_set1_ps);
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    const __m256 kept = _mm256_cmp_ps(x, _mm256_set1_ps(-87.0f), _CMP_NLT_UQ); /* not (x < -87) */
    return _mm256_and_ps(kept, _mm256_mul_ps(p, _mm256_castsi256_ps(e)));
}
static inline v16 exp_neg16(v16 x) { return (v16){exp_neg8(x.lo), exp_neg8(x.hi)}; }
#endif

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
        v16 kw[MAX_D / 16];
        for (int j = 0; j < J; j++) kw[j] = widen16(kl + 16 * j);
        for (int g = 0; g < G; g++) {
            const float *qg = qs + g * D;
            v16 a = v_mul(v_load(qg), kw[0]);
            v16 b = v_zero();
            if (J > 1) b = v_mul(v_load(qg + 16), kw[1]);
            for (int j = 2; j < J; j += 2) {
                a = v_fmadd(v_load(qg + 16 * j), kw[j], a);
                if (j + 1 < J) b = v_fmadd(v_load(qg + 16 * j + 16), kw[j + 1], b);
            }
            float s = v_sum(v_add(a, b));
            scores[g * L + l] = s;
            if (s > mx[g]) mx[g] = s;
        }
    }
    /* per query head: softmax weights, then the weighted values, normalised at the end */
    for (int g = 0; g < G; g++) {
        float *sg = scores + g * L;
        const v16 m = v_set1(mx[g]);
        v16 acc = v_zero(); /* 16 partial sums, added in a fixed order */
        for (int l = 0; l < L; l += 16) {
            const live16 live = v_live(L - l);
            const v16 e = exp_neg16(v_sub(v_load_live(live, sg + l), m));
            v_store_live(live, sg + l, e);
            acc = v_add_live(live, acc, e);
        }
        const float sum = v_sum(acc);
        v16 o[MAX_D / 16];
        for (int j = 0; j < J; j++) o[j] = v_zero();
        for (int l = 0; l < L; l++) {
            const uint16_t *vl = vb + l * s_col;
            v16 p = v_set1(sg[l]);
            for (int j = 0; j < J; j++) o[j] = v_fmadd(p, widen16(vl + 16 * j), o[j]);
        }
        v16 iv = v_set1(1.0f / sum);
        for (int j = 0; j < J; j++) v_store(oh + g * D + 16 * j, v_mul(o[j], iv));
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
