"""Pruning: drop candidates that another candidate of the same SKU beats (or equals) in every resource
the selection model uses. A dominated candidate is never needed: swapping it for its dominator keeps
every rule satisfied and costs no more. (With a single service constraint, the LP relaxation only ever
uses the lower convex hull of cost vs service; the integer choice may need points above the hull, so
pruning keeps every non-dominated candidate and the decomposition's reduced-cost test does the rest.)
"""

from __future__ import annotations

import numpy as np


def non_dominated(group: np.ndarray, cost: np.ndarray, benefits: np.ndarray, chunk: int = 1024) -> np.ndarray:
    """Boolean mask of the candidates to keep.

    group: SKU index per candidate; cost: to minimise; benefits: (K, N) attributes where more is better
    (negate a resource that is used up). Candidate j is dropped when some k of its SKU has
    cost_k <= cost_j and benefits_k >= benefits_j in every row, strictly better somewhere, or exactly
    equal with a smaller index (one of identical candidates stays). Vectorised per block of SKUs.
    """
    n = len(cost)
    keep = np.ones(n, dtype=bool)
    if n == 0:
        return keep
    order = np.argsort(group, kind="stable")
    g = group[order]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    sizes = np.diff(np.r_[starts, n])
    attrs = np.vstack([-np.asarray(cost, dtype=float)[None, :], np.asarray(benefits, dtype=float).reshape(-1, n)])
    attrs = attrs[:, order]  # (A, N) all "more is better"
    # Pad every SKU to the same width G (within a block) so the pairwise test is one array operation;
    # blocks take SKUs of similar size (smallest first) so little of the G x G work is padding. Each
    # SKU's mask depends on its own candidates only, so the grouping does not change the result.
    by_size = np.argsort(sizes, kind="stable")
    starts, sizes = starts[by_size], sizes[by_size]
    for b0 in range(0, len(starts), chunk):
        st = starts[b0:b0 + chunk]
        sz = sizes[b0:b0 + chunk]
        width = int(sz.max())
        if width == 1:
            continue
        col = np.arange(width)
        valid = col[None, :] < sz[:, None]  # (B, G)
        idx = np.where(valid, st[:, None] + col[None, :], 0)
        a = np.where(valid[None], attrs[:, idx], -np.inf)  # (A, B, G); padding is dominated by all
        # ge[b, k, j]: k at least as good as j in every attribute; eq: equal in every attribute.
        ge = a[0][:, :, None] >= a[0][:, None, :]
        eq = a[0][:, :, None] == a[0][:, None, :]
        for r in range(1, a.shape[0]):
            ge &= a[r][:, :, None] >= a[r][:, None, :]
            eq &= a[r][:, :, None] == a[r][:, None, :]
        first = np.triu(np.ones((width, width), dtype=bool), k=1)  # [k, j] with k < j
        # Dominated: some k at least as good everywhere and either better somewhere or an earlier twin.
        ge &= ~eq | first[None]
        ge &= valid[:, :, None]
        dominated = ge.any(axis=1) & valid
        keep[order[idx[dominated]]] = False
    return keep
