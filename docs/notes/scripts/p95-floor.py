"""
How far the 1.5x row's p95 (182 s, goal 180) is from what the data allow (docs/notes/tune-3.md,
"The p95 once more"). Plain numpy, no engine: one sample per 10 s bucket, iid N(0, 1) on the log
scale in sigma units, a 1.5x shift = ln 1.5 / 0.25 = 1.62 sigma (the generator's sigma is 0.25).

  python3 docs/notes/scripts/p95-floor.py

1. The two arms as the engine runs them (k 0.75 h 8 and k 0.45 h 15, z capped at 2.75), fed from
   S = 0 at the shift: the share of shifts found within 17 buckets (172 s with the 2 s settle),
   with the baseline known exactly, and with the engine's estimators (a winsorised mean and SD per
   60-minute window of 360 buckets, sigma the median of three windows an hour apart, the trend's
   rise used and a fall only when both halves fall).
2. The fast arm's false alarms per 1000 series-hours with a known baseline, from its run length
   (Brook and Evans' Markov chain), at h 8 and at h 7.5 (the setting that reaches 172 s in the eval).
"""
import numpy as np
from math import erf, sqrt

rng = np.random.default_rng(3)
M, W = 20000, 360
ARMS = ((0.75, 8.0), (0.45, 15.0))
CAP = 2.75
DELTA = 1.62


def wstats(a):
    med = np.median(a, axis=1, keepdims=True)
    mad = 1.4826 * np.median(np.abs(a - med), axis=1, keepdims=True)
    c = np.clip(a, med - 3 * mad, med + 3 * mad)
    return c.mean(axis=1), c.std(axis=1, ddof=1)


def delays(mu, sig, slope, T=60):
    S = np.zeros((len(ARMS), M))
    t = np.full(M, -1)
    for i in range(T):
        level = mu + slope * (40 + i / 6)  # the baseline's centre is 40 min back, then one bucket more each step
        z = np.minimum(CAP, (rng.normal(DELTA, 1, M) - level) / sig)
        hit = np.zeros(M, bool)
        for a, (k, h) in enumerate(ARMS):
            S[a] = np.minimum(h, np.maximum(0, S[a] + z - k))
            hit |= S[a] >= h
        t[hit & (t < 0)] = i + 1
    return t


older, middle, base = (wstats(rng.normal(0, 1, (M, W))) for _ in range(3))
whole = (base[0] - older[0]) / 120
first = (middle[0] - older[0]) / 60
second = (base[0] - middle[0]) / 60
slope = np.where(whole >= 0, whole, np.where((first < 0) & (second < 0), np.maximum(whole, np.maximum(first, second)), 0))
sigma3 = np.median(np.stack([base[1], middle[1], older[1]]), axis=0)
for name, t in (('known baseline', delays(np.zeros(M), np.ones(M), np.zeros(M))), ("the engine's estimators", delays(base[0], sigma3, slope))):
    print(f'{name}: within 17 buckets {100 * (t <= 17).mean():.1f} %, p95 {np.percentile(t, 95):.0f} buckets, median {np.median(t):.0f}')


def Phi(x):
    return 0.5 * (1 + np.vectorize(erf)(x / sqrt(2)))


def arl(k, h, c, N=600):
    """Average run length from S = 0 of S = min(h, max(0, S + min(c, z) - k)), z ~ N(0, 1)."""
    w = h / N
    centres = np.concatenate([[0.0], (np.arange(1, N) + 0.5) * w])
    P = np.zeros((N, N))
    for i, x in enumerate(centres):
        def below(y):
            t = y - x + k
            return np.where(t > c, 1.0, Phi(t))
        edges = below(np.concatenate([[w / 2], np.arange(1, N - 1) * w + w / 2, [h]]))
        P[i, 0] = edges[0]
        P[i, 1:] = np.diff(edges)
    return np.linalg.solve(np.eye(N) - P, np.ones(N))[0]


for h in (8.0, 7.5):
    print(f'fast arm k 0.75 h {h}, known baseline: {360_000 / arl(0.75, h, CAP):.2f} false alarms per 1000 series-hours')
