/* The arithmetic of src/assay/targets/_attend.c written out one float at a time, for the
 * test that every build of the kernel gives the same bits as this (build it with
 * -ffp-contract=off and without -ffast-math: each operation below rounds once).
 *
 * A "vector" is 16 lanes; a sum across one follows the AVX-512 build's tree (GCC's
 * _mm512_reduce_add_ps): upper half + lower half, upper quarter + lower quarter, lanes
 * (0 + 2) and (1 + 3), then those two. */
#include <math.h>
#include <stdint.h>
#include <string.h>

static float widen(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static float sum16(const float *v) {
    float h[8], q[4];
    for (int i = 0; i < 8; i++) h[i] = v[8 + i] + v[i];
    for (int i = 0; i < 4; i++) q[i] = h[4 + i] + h[i];
    return (q[0] + q[2]) + (q[1] + q[3]);
}

static float exp_neg(float x) {
    const float t = x * 1.44269504088896341f;
    const float n = nearbyintf(t); /* to nearest, ties to even */
    const float f = t - n;
    float p = 1.535336188319500e-4f;
    p = fmaf(p, f, 1.339887440266574e-3f);
    p = fmaf(p, f, 9.618437357674640e-3f);
    p = fmaf(p, f, 5.550332471162809e-2f);
    p = fmaf(p, f, 2.402264791363012e-1f);
    p = fmaf(p, f, 6.931472028550421e-1f);
    p = fmaf(p, f, 1.0f);
    if (x < -87.0f) return 0.0f;
    return ldexpf(p, (int)n);
}

/* the signature of assay_decode_attention */
int reference_decode_attention(const float *q, const uint16_t *K, const uint16_t *V, int64_t s_row,
                               int64_t s_head, int64_t s_col, const int32_t *lens, int n, int kvh, int G,
                               int D, float scale, float *scores, float *out) {
    if (D % 16 != 0 || D > 256 || G > 16 || G < 1) return -1;
    const int J = D / 16;
    for (int r = 0; r < n; r++) {
        const int L = lens[r];
        for (int h = 0; h < kvh; h++) {
            const int64_t at = ((int64_t)r * kvh + h) * G * D;
            const uint16_t *kb = K + r * s_row + h * s_head, *vb = V + r * s_row + h * s_head;
            float qs[16 * 256], mx[16];
            for (int i = 0; i < G * D; i++) qs[i] = q[at + i] * scale;
            for (int g = 0; g < G; g++) mx[g] = -INFINITY;
            for (int l = 0; l < L; l++) {
                const uint16_t *kl = kb + l * s_col;
                for (int g = 0; g < G; g++) {
                    const float *qg = qs + g * D;
                    float a[16], b[16], v[16];
                    for (int k = 0; k < 16; k++) {
                        a[k] = qg[k] * widen(kl[k]);
                        b[k] = J > 1 ? qg[16 + k] * widen(kl[16 + k]) : 0.0f;
                    }
                    for (int j = 2; j < J; j += 2)
                        for (int k = 0; k < 16; k++) {
                            a[k] = fmaf(qg[16 * j + k], widen(kl[16 * j + k]), a[k]);
                            if (j + 1 < J) b[k] = fmaf(qg[16 * j + 16 + k], widen(kl[16 * j + 16 + k]), b[k]);
                        }
                    for (int k = 0; k < 16; k++) v[k] = a[k] + b[k];
                    const float s = sum16(v);
                    scores[g * L + l] = s;
                    if (s > mx[g]) mx[g] = s;
                }
            }
            for (int g = 0; g < G; g++) {
                float *sg = scores + g * L, acc[16] = {0};
                for (int l = 0; l < L; l += 16)
                    for (int k = 0; k < 16 && l + k < L; k++) {
                        sg[l + k] = exp_neg(sg[l + k] - mx[g]);
                        acc[k] = acc[k] + sg[l + k];
                    }
                const float inv = 1.0f / sum16(acc);
                float o[256] = {0};
                for (int l = 0; l < L; l++)
                    for (int d = 0; d < D; d++) o[d] = fmaf(sg[l], widen(vb[l * s_col + d]), o[d]);
                for (int d = 0; d < D; d++) out[at + g * D + d] = o[d] * inv;
            }
        }
    }
    return 0;
}
