"""Which data space reproduces the study's published memberships? (issue 12)

Clusters the study's map (``hyperspy_cmeans.data.qv120_cross_section``) with
Gustafson–Kessel (c = 4, m = 2, random_state = 0) in several candidate data
spaces and scores each against the published memberships
(``qv120_published_result``): adjusted Rand index of the argmax labels,
membership RMSE after Hungarian matching, share of pixels without a membership
above 0.5 (published: 5.7 %). The same candidates are scored on Poisson counts
drawn from the map (the study's dose and 50 counts per pixel; the published
memberships as truth) and on synthetic maps with a known truth: the default
map, the same with a smooth intensity gradient (1 -> 0.3 across the map, like
a shadowed corner of a FIB trench), and that at 50 counts per pixel.

Run from the repository root: ``python scripts/qv120_data_space.py`` (about
5 minutes on 2 cores). The table is printed as Markdown.

Result (2026-11-30; ARI / RMSE, and unassigned share on the study map):

| data space | study map | Poisson 336 | Poisson 50 | synthetic | gradient | gradient 50 |
|---|---|---|---|---|---|---|
| "standard" (channel z-score), 3 | 0.754 / 0.137 / 7.2 % | 0.828 / 0.109 | 0.723 / 0.153 | 0.971 / 0.064 | 0.941 / 0.107 | 0.801 / 0.200 |
| "center", 3 | 0.852 / 0.090 / 7.0 % | 0.830 / 0.106 | 0.489 / 0.280 | 0.935 / 0.115 | 0.775 / 0.201 | 0.137 / 0.412 |
| "poisson" (Keenan-Kotula, centred), 3 | 0.907 / 0.062 / 5.8 % | 0.891 / 0.079 | 0.744 / 0.147 | 0.969 / 0.063 | 0.961 / 0.083 | 0.855 / 0.174 |
| "poisson", 4 | 0.811 / 0.090 / 10.4 % | 0.778 / 0.134 | 0.581 / 0.221 | 0.960 / 0.088 | 0.954 / 0.111 | 0.824 / 0.198 |
| K-K SVD not centred, components 0-2 | 0.888 / 0.076 / 5.6 % | 0.888 / 0.085 | 0.769 / 0.138 | 0.953 / 0.075 | 0.792 / 0.174 | 0.668 / 0.255 |
| K-K SVD not centred, components 1-3 | 0.915 / 0.056 / 6.0 % | 0.889 / 0.083 | 0.541 / 0.254 | 0.969 / 0.063 | 0.961 / 0.084 | 0.855 / 0.175 |
| spectrum / total, centred, 3 | 0.933 / 0.050 / 5.7 % | 0.876 / 0.087 | 0.543 / 0.244 | 0.953 / 0.090 | 0.887 / 0.162 | 0.331 / 0.374 |
| "snv" (the study's), 3 | 0.916 / 0.060 / 3.4 % | 0.887 / 0.078 | 0.529 / 0.257 | 0.961 / 0.080 | 0.862 / 0.172 | 0.297 / 0.385 |
| "composition", 3 | 0.932 / 0.053 / 5.4 % | 0.890 / 0.080 | 0.723 / 0.154 | 0.969 / 0.063 | 0.966 / 0.078 | 0.857 / 0.172 |

For scale: two independent Poisson replicates of the map at the study's dose,
each clustered exactly the study's way ("snv", 3 components, GK), agree with
each other at ARI 0.86 (RMSE 0.089) and with the published memberships at
0.88-0.89; the published data space least-squares projected on the map's 15
loadings (its noise removed) gives ARI 0.85 against the published memberships.
The published result holds the counting noise of the raw map, which the
15-component map does not.
"""

import warnings

import numpy as np
from sklearn.metrics import adjusted_rand_score

from hyperspy_cmeans import evaluation
from hyperspy_cmeans._features import pca_scores
from hyperspy_cmeans.cmeans import GustafsonKessel
from hyperspy_cmeans.data import (
    ground_truth,
    qv120_cross_section,
    qv120_published_result,
    synthetic_eds_map,
)


def poisson_svd(X, components):
    """Scores of the Keenan–Kotula weighted, *not centred* SVD (HyperSpy's decomposition)."""
    X = X.astype(float)
    a, b = X.sum(1), X.mean(0)
    rw = np.where(a > 0, 1 / np.sqrt(np.where(a > 0, a, 1)), 0)
    cw = np.where(b > 0, 1 / np.sqrt(np.where(b > 0, b, 1)), 0)
    u, s, _ = np.linalg.svd(X * rw[:, None] * cw[None, :], full_matrices=False)
    return (u * s)[:, components]


def total_normalised(X):
    """Centred PCA of the spectra divided by their totals (no channel weighting)."""
    X = X.astype(float)
    a = X.sum(1)
    return pca_scores(X / np.where(a > 0, a, 1)[:, None], 3, "center").scores


CANDIDATES = {
    '"standard" (channel z-score), 3': lambda X: pca_scores(X, 3, "standard").scores,
    '"center", 3': lambda X: pca_scores(X, 3, "center").scores,
    '"poisson" (Keenan-Kotula, centred), 3': lambda X: pca_scores(X, 3, "poisson").scores,
    '"poisson", 4': lambda X: pca_scores(X, 4, "poisson").scores,
    "Keenan-Kotula SVD not centred, components 0-2": lambda X: poisson_svd(X, [0, 1, 2]),
    "Keenan-Kotula SVD not centred, components 1-3": lambda X: poisson_svd(X, [1, 2, 3]),
    "spectrum / total, centred, 3": total_normalised,
    '"snv" (per-pixel standardisation: the study), 3': lambda X: pca_scores(X, 3, "snv").scores,
    '"composition" (K-K axes, composition scores), 3': lambda X: (
        pca_scores(X, 3, "composition").scores
    ),
}


def gk(features):
    return GustafsonKessel(n_clusters=4, random_state=0).fit(features).memberships_


def against(u, reference):
    match = evaluation.match_clusters(u, reference)
    ari = adjusted_rand_score(reference.argmax(1), u.argmax(1))
    return ari, evaluation.membership_rmse(u, reference, match), np.mean(u.max(1) <= 0.5)


def main():
    warnings.simplefilter("ignore")
    s = qv120_cross_section()
    X = s.data.reshape(-1, s.data.shape[-1]).astype(float)
    published = qv120_published_result().memberships.data.reshape(4, -1).T.astype(float)
    lam = np.clip(X, 0, None)
    replicates = {
        dose: np.random.default_rng(0).poisson(lam * dose / X.sum(1).mean()).astype(np.float32)
        for dose in (336, 50)
    }
    syn = synthetic_eds_map()
    truth = ground_truth(syn)
    fractions = truth.fractions.reshape(len(truth.fractions), -1).T
    ny, nx = truth.fractions.shape[1:]
    yy, xx = np.mgrid[0:ny, 0:nx]
    gradient = (1 - 0.7 * (xx + yy) / (nx + ny - 2)).ravel()
    expected = fractions @ truth.phase_spectra
    synthetic = {
        "default": syn.data.reshape(ny * nx, -1).astype(np.float32),
        "gradient": np.random.default_rng(1)
        .poisson(expected * gradient[:, None])
        .astype(np.float32),
        "gradient, 50 counts": np.random.default_rng(1)
        .poisson(expected * gradient[:, None] / 4)
        .astype(np.float32),
    }
    print(
        "| data space | study map: ARI / RMSE / unassigned | Poisson 336: ARI / RMSE "
        "| Poisson 50: ARI / RMSE | synthetic: ARI / RMSE | gradient: ARI / RMSE "
        "| gradient 50: ARI / RMSE |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, features in CANDIDATES.items():
        ari, rmse, unassigned = against(gk(features(X)), published)
        row = [name, f"{ari:.3f} / {rmse:.3f} / {100 * unassigned:.1f} %"]
        for dose in (336, 50):
            ari, rmse, _ = against(gk(features(replicates[dose])), published)
            row.append(f"{ari:.3f} / {rmse:.3f}")
        for data in synthetic.values():
            u = gk(features(data))
            ari = evaluation.dominant_phase_ari(u.argmax(1), fractions)
            row.append(f"{ari:.3f} / {evaluation.membership_rmse(u, fractions):.3f}")
        print("| " + " | ".join(row) + " |", flush=True)


if __name__ == "__main__":
    main()
