"""optimizer.solver's HiGHS interface hands the columns that added or removed rows bring in or leave
unused to HiGHS in batches: HiGHS must hold the very model Pyomo's own interface builds, through a
sequence of additions and removals like optimizer.finish's."""

import numpy as np
import pyomo.environ as pe
from pyomo.contrib.solver.solvers.highs import Highs

from optimizer import solver as hs


def _lp(opt) -> tuple:
    """The HiGHS model as arrays: column bounds and integrality, row bounds, the matrix by columns."""
    lp = opt._solver_model.getLp()
    a = lp.a_matrix_
    return (np.array(lp.col_lower_), np.array(lp.col_upper_), np.array(lp.integrality_, dtype=int),
            np.array(lp.row_lower_), np.array(lp.row_upper_), np.array(a.start_), np.array(a.index_),
            np.array(a.value_), np.array(lp.col_cost_))


def _script(make_solver) -> list[tuple]:
    """Add rows over new variables, remove some (leaving variables unused), add more, re-solve."""
    m = pe.ConcreteModel()
    m.x = pe.VarList(domain=pe.Binary)
    m.z = pe.VarList(bounds=(0.0, 1.0))
    m.c = pe.Constraint(pe.Any)
    xs = [m.x.add() for _ in range(6)]
    zs = [m.z.add() for _ in range(3)]
    m.c[0] = xs[0] + xs[1] + zs[0] == 1
    m.c[1] = xs[2] + xs[3] + zs[1] == 1
    m.c[2] = 2 * xs[0] + 3 * xs[2] + xs[4] >= 1
    m.obj = pe.Objective(expr=xs[0] + 2 * xs[1] + 3 * xs[2] + xs[3] + xs[4])
    opt = make_solver()
    for flag in hs._AUTO_UPDATES:
        setattr(opt.config.auto_updates, flag, False)
    opt.set_instance(m)
    snapshots = [_lp(opt)]
    # remove two rows: z0 and z1 are left unused (deleted), the x's stay in the objective
    opt.remove_constraints([m.c[0], m.c[1]])
    del m.c[0], m.c[1]
    snapshots.append(_lp(opt))
    # add rows over old and new variables, re-adding z0
    m.c[3] = xs[0] + xs[1] + xs[5] + zs[0] == 1
    m.c[4] = xs[2] + xs[3] + zs[2] == 1
    opt.add_constraints([m.c[3], m.c[4]])
    snapshots.append(_lp(opt))
    status, res = hs.run(opt, m, hs.SolverOptions(), mip=True)
    snapshots.append((status, res.incumbent_objective))
    return snapshots


def test_batched_highs_holds_the_model_pyomo_builds():
    ours, pyomos = _script(hs.new_highs), _script(Highs)
    assert len(ours) == len(pyomos)
    for a, b in zip(ours[:-1], pyomos[:-1]):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)
    assert ours[-1] == pyomos[-1]
