"""The compiled period loop of the fast engine: all candidates of one SKU, one replication.

Follows docs/simulation.md step by step (review, receive, backorders, expedites, customer orders,
end of period). Only scalars and arrays cross into numba; `simulation.kernel` prepares them.
Counters of warm-up periods are simply zeroed when period `warmup` starts: every counter counts an
event in the period it happens, except completions, which belong to the period of their customer
order and are therefore filtered by order index (`first_counted`).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# Family codes (simulation.policy_arrays.FAMILY_CODE).
BASE_STOCK, SS, RQ, RS, RSS, CAPPED = 0, 1, 2, 3, 4, 5

# Counter positions (simulation.counters.COUNTERS order).
(
    C_DEMAND, C_FILLED, C_BACKORDERED, C_SUBSTITUTED, C_LOST, C_ORDERS, C_AT_ONCE, C_BO_ORDERS,
    C_STOCKOUT_PERIODS, C_CYCLES, C_CYCLES_SO, C_COMPLETED, C_CT_SUM, C_CT_SQ, C_ON_TIME,
    C_CUSTOMERS_LOST, C_ON_HAND, C_IN_TRANSIT, C_BACKLOG, C_REP_ORDERS, C_REP_UNITS, C_VEHICLES,
    C_EXP_SHIPMENTS, C_EXP_UNITS,
) = range(24)


@njit(cache=True, inline="always")
def _vehicles(q, capacity):
    """Vehicles for q units: ceil(q / capacity), one when the capacity is unset (<= 0)."""
    if capacity <= 0.0:
        return 1
    return int(math.ceil(q / capacity))


@njit(cache=True, inline="always")
def _order_quantity(family, ip, s, S, Q, cap):
    """Units the family asks for at inventory position ip (0 = no order)."""
    if family == SS or family == RSS:
        return S - ip if ip <= s else 0
    if family == RQ:
        if ip <= s and Q > 0:
            return Q * ((s - ip) // Q + 1)
        return 0
    if family == CAPPED:
        if ip < S:
            return min(S - ip, cap)
        return 0
    # base_stock, RS
    return S - ip if ip < S else 0


@njit(cache=True)
def simulate_replication(
    family, mode, s_arr, S_arr, Q_arr, R_arr, cap_arr,  # candidates (int64[n])
    order_start, order_size, order_customer, u_reaction, u_defect,  # customer orders
    transmittal, processing, delivery,  # order cycle elements (float64[N])
    lead_time,  # int64[n_modes, T+N+1]
    expedite_lead_time,  # int64[N]
    vehicle_capacity,  # float64[n_modes], <= 0 = unlimited
    warmup, periods,
    wait, wait_or_substitute, partial,
    defection, customers, window, threshold, defect_probability,
    expedite, expedite_capacity,
    moq, pack_size, promised,
    out,  # float64[n, N_COUNTERS] for this replication
):
    """Simulate every candidate over `periods` periods on the same draws; write raw counters to out."""
    n = family.shape[0]
    T = periods
    n_orders = order_size.shape[0]
    first_counted = order_start[warmup] if warmup <= T else n_orders
    on_time_limit = promised + 1e-9
    # Cycle time of an order completed in its own period (shared by all candidates).
    ct0 = np.empty(n_orders)
    ct0_sq = np.empty(n_orders)
    on_time0 = np.empty(n_orders, np.int64)
    for i in range(n_orders):
        ct = transmittal[i] + processing[i] + 0.0 + delivery[i]
        ct0[i] = ct
        ct0_sq[i] = ct * ct
        on_time0[i] = 1 if ct <= on_time_limit else 0
    order_period = np.empty(n_orders, np.int64)
    for t in range(T):
        for i in range(order_start[t], order_start[t + 1]):
            order_period[i] = t

    # Working arrays, allocated once and reset per candidate.
    max_lead = 0
    for m in range(lead_time.shape[0]):
        for j in range(lead_time.shape[1]):
            if lead_time[m, j] > max_lead:
                max_lead = lead_time[m, j]
    arrive = np.zeros(T + max_lead + 2, np.int64)
    max_exp = 0
    for i in range(n_orders):
        if expedite_lead_time[i] > max_exp:
            max_exp = expedite_lead_time[i]
    exp_due = np.zeros(T + max_exp + 2, np.int64)
    queue_order = np.empty(max(n_orders, 1), np.int64)
    queue_owed = np.empty(max(n_orders, 1), np.int64)
    n_customers = customers if defection else 1
    defected = np.zeros(n_customers, np.bool_)
    hist = np.zeros((n_customers, max(threshold, 1)), np.int64)
    hist_count = np.zeros(n_customers, np.int64)

    for k in range(n):
        fam = family[k]
        s = s_arr[k]
        S = S_arr[k]
        Q = Q_arr[k]
        R = R_arr[k]
        cap = cap_arr[k]
        lt = lead_time[mode[k]]
        vcap = vehicle_capacity[mode[k]]

        arrive[:] = 0
        if expedite:
            exp_due[:] = 0
        if defection:
            defected[:] = False
            hist_count[:] = 0

        on_hand = s + Q if fam == RQ else S
        on_order = 0
        backlog = 0  # FIFO owed units (in IP)
        exp_out = 0  # expedited units owed, not yet delivered (not in IP)
        head = 0
        tail = 0
        j = 0  # replenishment orders placed (index into lt)
        cycle_flag = False

        demand = 0
        filled_units = 0
        bo_units = 0
        sub_units = 0
        lost_units = 0
        cust_orders = 0
        at_once = 0
        bo_orders = 0
        so_periods = 0
        cycles = 0
        cycles_so = 0
        completed = 0
        ct_sum = 0.0
        ct_sq = 0.0
        on_time = 0
        cust_lost = 0
        on_hand_sum = 0
        in_transit_sum = 0
        backlog_sum = 0
        rep_orders = 0
        rep_units = 0
        vehicles = 0
        exp_ship = 0
        exp_units = 0

        for t in range(T):
            if t == warmup:
                # Everything before counted only warm-up events.
                demand = 0
                filled_units = 0
                bo_units = 0
                sub_units = 0
                lost_units = 0
                cust_orders = 0
                at_once = 0
                bo_orders = 0
                so_periods = 0
                cycles = 0
                cycles_so = 0
                completed = 0
                ct_sum = 0.0
                ct_sq = 0.0
                on_time = 0
                cust_lost = 0
                on_hand_sum = 0
                in_transit_sum = 0
                backlog_sum = 0
                rep_orders = 0
                rep_units = 0
                vehicles = 0
                exp_ship = 0
                exp_units = 0

            # 1. periodic review
            if R >= 1 and t % R == 0:
                q = _order_quantity(fam, on_hand + on_order - backlog, s, S, Q, cap)
                if q > 0:
                    if q < moq:
                        q = moq
                    if pack_size > 1:
                        q = ((q + pack_size - 1) // pack_size) * pack_size
                    arrive[t + lt[j]] += q
                    j += 1
                    on_order += q
                    rep_orders += 1
                    rep_units += q
                    vehicles += _vehicles(q, vcap)

            # 2. receive
            a = arrive[t]
            if a > 0:
                on_hand += a
                on_order -= a
                cycles += 1
                if cycle_flag:
                    cycles_so += 1
                cycle_flag = False

            # 3. backorders FIFO, then expedited shipments due now
            while head < tail and on_hand > 0:
                owed = queue_owed[head]
                if owed <= on_hand:
                    on_hand -= owed
                    backlog -= owed
                    i = queue_order[head]
                    head += 1
                    if i >= first_counted:
                        ct = transmittal[i] + processing[i] + float(t - order_period[i]) + delivery[i]
                        completed += 1
                        ct_sum += ct
                        ct_sq += ct * ct
                        if ct <= on_time_limit:
                            on_time += 1
                elif partial:
                    queue_owed[head] = owed - on_hand
                    backlog -= on_hand
                    on_hand = 0
                else:
                    break
            if expedite:
                e = exp_due[t]
                if e > 0:
                    exp_out -= e

            # 4. customer orders
            stockout = False
            for i in range(order_start[t], order_start[t + 1]):
                c = order_customer[i]
                if defection and defected[c]:
                    continue
                size = order_size[i]
                demand += size
                cust_orders += 1
                if partial:
                    filled = size if on_hand >= size else on_hand
                else:
                    filled = size if on_hand >= size else 0
                short = size - filled
                on_hand -= filled
                filled_units += filled
                if short == 0:
                    at_once += 1
                    completed += 1
                    ct_sum += ct0[i]
                    ct_sq += ct0_sq[i]
                    on_time += on_time0[i]
                else:
                    stockout = True
                    cycle_flag = True
                    u = u_reaction[i]
                    if u < wait:
                        bo_units += short
                        bo_orders += 1
                        if expedite:
                            L = expedite_lead_time[i]
                            exp_ship += _vehicles(short, expedite_capacity)
                            exp_units += short
                            if t + L < T:
                                # Delivered at once (L = 0) or in step 3 of t + L, inside the horizon:
                                # its completion is known now and belongs to this order's period.
                                ct = transmittal[i] + processing[i] + float(L) + delivery[i]
                                completed += 1
                                ct_sum += ct
                                ct_sq += ct * ct
                                if ct <= on_time_limit:
                                    on_time += 1
                            if L > 0:
                                exp_due[t + L] += short
                                exp_out += short
                        else:
                            queue_order[tail] = i
                            queue_owed[tail] = short
                            tail += 1
                            backlog += short
                    elif u < wait_or_substitute:
                        sub_units += short
                        completed += 1
                        ct_sum += ct0[i]
                        ct_sq += ct0_sq[i]
                        on_time += on_time0[i]
                    else:
                        lost_units += short
                    if defection:
                        h = hist_count[c]
                        hist[c, h % threshold] = t
                        h += 1
                        hist_count[c] = h
                        # The oldest of the last `threshold` stockouts decides whether they all lie
                        # inside the window (entries <= t - window are forgotten).
                        if h >= threshold and hist[c, h % threshold] > t - window:
                            if u_defect[i] < defect_probability:
                                defected[c] = True
                                cust_lost += 1
                if R == 0:
                    q = _order_quantity(fam, on_hand + on_order - backlog, s, S, Q, cap)
                    if q > 0:
                        if q < moq:
                            q = moq
                        if pack_size > 1:
                            q = ((q + pack_size - 1) // pack_size) * pack_size
                        L = lt[j]
                        j += 1
                        arrive[t + (L if L > 1 else 1)] += q
                        on_order += q
                        rep_orders += 1
                        rep_units += q
                        vehicles += _vehicles(q, vcap)
            if stockout:
                so_periods += 1

            # 5. end of period
            on_hand_sum += on_hand
            in_transit_sum += on_order
            backlog_sum += backlog + exp_out

        # The open replenishment cycle counts as one more.
        cycles += 1
        if cycle_flag:
            cycles_so += 1

        o = out[k]
        o[C_DEMAND] = demand
        o[C_FILLED] = filled_units
        o[C_BACKORDERED] = bo_units
        o[C_SUBSTITUTED] = sub_units
        o[C_LOST] = lost_units
        o[C_ORDERS] = cust_orders
        o[C_AT_ONCE] = at_once
        o[C_BO_ORDERS] = bo_orders
        o[C_STOCKOUT_PERIODS] = so_periods
        o[C_CYCLES] = cycles
        o[C_CYCLES_SO] = cycles_so
        o[C_COMPLETED] = completed
        o[C_CT_SUM] = ct_sum
        o[C_CT_SQ] = ct_sq
        o[C_ON_TIME] = on_time
        o[C_CUSTOMERS_LOST] = cust_lost
        o[C_ON_HAND] = on_hand_sum
        o[C_IN_TRANSIT] = in_transit_sum
        o[C_BACKLOG] = backlog_sum
        o[C_REP_ORDERS] = rep_orders
        o[C_REP_UNITS] = rep_units
        o[C_VEHICLES] = vehicles
        o[C_EXP_SHIPMENTS] = exp_ship
        o[C_EXP_UNITS] = exp_units
