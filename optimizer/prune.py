"""Pruning: drop candidates that another candidate of the same SKU beats (or equals) in every resource
the selection model uses. A dominated candidate is never needed: swapping it for its dominator keeps
every rule satisfied and costs no more. (With a single service constraint, the LP relaxation only ever
uses the lower convex hull of cost vs service; the integer choice may need points above the hull, so
pruning keeps every non-dominated candidate and the decomposition's reduced-cost test does the rest.)
"""

from __future__ import annotations

import numba
import numpy as np


def non_dominated(group: np.ndarray, cost: np.ndarray, benefits) -> np.ndarray:
    """Boolean mask of the candidates to keep.

    group: SKU index per candidate; cost: to minimise; benefits: (K, N) attributes where more is better
    (negate a resource that is used up), as an array or a list of K arrays of N numbers. Candidate j
    is dropped when some k of its SKU has cost_k <= cost_j and benefits_k >= benefits_j in every row,
    strictly better somewhere, or exactly equal with a smaller index (one of identical candidates
    stays).

    Sort-filter skyline: within each SKU the candidates are visited cheapest first, ties by each
    benefit (largest first) and then by index, an order in which every dominator comes before the
    candidates it dominates; a candidate is then dominated exactly when one of the candidates kept
    so far dominates it (dominance is transitive, so a dropped dominator's own dominator was kept).
    Work per SKU: candidates x kept candidates, not candidates squared.
    """
    n = len(cost)
    if n == 0:
        return np.ones(0, dtype=bool)
    cost = np.asarray(cost, dtype=float)
    rows = benefits.reshape(-1, n) if isinstance(benefits, np.ndarray) else benefits
    # Every row "more is better", filled row by row: one (K + 1, N) array, not a stacked copy of a
    # stacked copy (on a large catalogue the selection's pruning is part of the head's peak).
    attrs = np.empty((len(rows) + 1, n))
    attrs[0] = -cost
    for k, row in enumerate(rows):
        attrs[k + 1] = row
    group = np.asarray(group)
    order = _skyline_order(group, cost, attrs[1:])
    g = group[order]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]]).astype(np.int64)
    ends = np.r_[starts[1:], n].astype(np.int64)
    return _skyline(order.astype(np.int64), starts, ends, attrs)


def _skyline_order(group: np.ndarray, cost: np.ndarray, benefits: np.ndarray) -> np.ndarray:
    """Positions sorted by SKU, cost, each benefit (largest first) and index: np.lexsort over all the
    keys, with the benefits and index compared only where SKU and cost tie (few rows do), instead of
    a lexsort of every row by K + 3 keys."""
    order = np.lexsort([cost, group])  # stable: ties stay in index order
    c, g = cost[order], group[order]
    same = (g[1:] == g[:-1]) & ((c[1:] == c[:-1]) | (np.isnan(c[1:]) & np.isnan(c[:-1])))
    if not same.any():
        return order
    tied = np.r_[same, False] | np.r_[False, same]  # every member of a run of ties
    run = np.cumsum(np.r_[True, ~same])[tied]  # the run each tied position belongs to
    members = order[tied]
    # np.lexsort: the last key is the primary one. Negated benefits sort largest first.
    keys = [members] + [-benefits[r, members] for r in range(benefits.shape[0] - 1, -1, -1)] + [run]
    order[tied] = members[np.lexsort(keys)]
    return order


@numba.njit(cache=True)
def _skyline(order, starts, ends, attrs):  # pragma: no cover - compiled; tested through non_dominated
    n_attrs, n = attrs.shape
    keep = np.ones(n, dtype=np.bool_)
    kept = np.empty(n, dtype=np.int64)
    for b in range(starts.shape[0]):
        n_kept = 0
        for t in range(starts[b], ends[b]):
            j = order[t]
            dominated = False
            for u in range(n_kept):
                k = kept[u]
                at_least = True
                for a in range(n_attrs):
                    if not attrs[a, k] >= attrs[a, j]:  # written so that NaN never dominates
                        at_least = False
                        break
                # k comes earlier: at least as good everywhere means strictly better somewhere, or an
                # identical candidate with a smaller index.
                if at_least:
                    dominated = True
                    break
            if dominated:
                keep[j] = False
            else:
                kept[n_kept] = j
                n_kept += 1
    return keep
