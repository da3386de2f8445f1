"""CUDA path of KCenterGreedy (torch): eager, one screened pass per pick.

The screen is one float32 matrix-vector product per pick (the matrix read once, at memory
bandwidth) with row norms computed once; its error bound is absolute, (d + 8) * 2^-24 *
(|x| + |c|)^2, doubled for margin. Candidates are refined in float64 in bounded chunks, with the
CPU kernels' arithmetic except for the order of the float64 sum, which torch chooses (see the
package docstring for when that can matter).
"""

from __future__ import annotations

import numpy as np

# Rows per chunk: bounds the float64 temporaries to chunk x d x 8 bytes.
_CHUNK_ROWS = 1 << 16

# Relative margin of the screen, as on the CPU (see `pipeline.selection._numba.screen_margin`).
_SCREEN_TOL = 1e-4


def screen_margin(d: int) -> float:
    return max(_SCREEN_TOL, 4.0 * (d + 8) * 2.0**-24)


def select_eager(x, k: int, first: int, bar) -> tuple[np.ndarray, np.ndarray, float]:
    """Eager KCenterGreedy on a float32 torch tensor; (indices, radii, final radius)."""
    import torch

    n, d = x.shape
    previous = torch.get_float32_matmul_precision()
    # TF32 would break the screen's error bound.
    torch.set_float32_matmul_precision("highest")
    try:
        sq_norms = torch.empty(n, dtype=torch.float64, device=x.device)
        for start in range(0, n, _CHUNK_ROWS):
            chunk = x[start : start + _CHUNK_ROWS].to(torch.float64)
            sq_norms[start : start + chunk.shape[0]] = chunk.square().sum(dim=1)
        sq32 = sq_norms.to(torch.float32)
        norms = sq_norms.sqrt().to(torch.float32)
        err = 2.0 * (d + 8) * 2.0**-24
        margin = float(screen_margin(d))
        min_dist = torch.full((n,), float("inf"), dtype=torch.float32, device=x.device)
        indices = np.empty(k, dtype=np.int64)
        radii = np.empty(k, dtype=np.float32)
        pick, radius = first, np.float32(np.inf)
        for t in range(k):
            indices[t], radii[t] = pick, radius
            min_dist[pick] = -1.0
            c = x[pick]
            approx = sq32 + sq32[pick] - 2.0 * torch.mv(x, c)
            bound = err * (norms + norms[pick]).square_()
            # Written as "not above" so a NaN screen (inf - inf, from norms whose squares
            # overflow float32) keeps the row for the float64 recompute.
            above = approx > min_dist.square() * (1 + margin) + bound + 1e-30
            cand = (min_dist >= 0) & ~above
            rows = cand.nonzero().squeeze(1)
            c64 = c.to(torch.float64)
            for start in range(0, rows.numel(), _CHUNK_ROWS):
                r = rows[start : start + _CHUNK_ROWS]
                exact = (x[r].to(torch.float64) - c64).square_().sum(dim=1).to(torch.float32)
                min_dist[r] = torch.minimum(min_dist[r], exact.sqrt_())
            # torch.argmax returns the first maximum: ties go to the lowest index.
            pick = int(torch.argmax(min_dist))
            radius = np.float32(min_dist[pick].item())
            if bar is not None:
                bar.update(1)
    finally:
        torch.set_float32_matmul_precision(previous)
    final = float(max(radius, 0.0)) if k < n else 0.0
    return indices, radii, final
