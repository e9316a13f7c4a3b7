"""The numba kernel of the stochastic simulator (one generic kernel for every model).

Semantics are MaBoSS's (continuous-time Markov process on the asynchronous Boolean state
space, Gillespie's algorithm): in state ``s`` every node ``i`` has a flip rate ``r_i(s)``; the
time to the next transition is exponential with rate ``R = sum_i r_i(s)`` and node ``i`` flips
with probability ``r_i / R``. A trajectory stops when ``R = 0`` (a fixed point, held until
``max_time``) or when the next transition would fall after ``max_time``.

Observables are time averages over windows ``[k dt, (k+1) dt)``, ``k < floor(max_time / dt)``,
as MaBoSS reports them: the fraction of the window each node spends ON, and the fraction each
state of the output nodes is occupied, summed over trajectories. They are accumulated lazily
(only when a node or the output state changes), so one transition costs O(1) plus the update
of the flip rates of the nodes that read the flipped node.

States are bit-packed in ``n_words`` uint64 words (node ``i`` is bit ``i % 64`` of word
``i // 64``), so any number of nodes is supported. Trajectories are split into ``n_chunks``
contiguous blocks run in parallel; trajectory ``j`` draws from its own splitmix64 stream seeded
by ``(seed, j)``, so a result depends only on the seed and on the chunking (the thread count),
the latter only through the order of floating-point sums.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_SEED_MIX = np.uint64(0xD1B54A32D192ED03)
_ONE = np.uint64(1)
_TWO_M53 = 1.0 / 9007199254740992.0

FLAG_STATE_OVERFLOW = 1
FLAG_BAD_RATE = 2


@njit(inline="always")
def _next_u64(rng):
    rng[0] += _GOLDEN
    z = rng[0]
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


@njit(inline="always")
def _uniform(rng):
    """Uniform on [0, 1) with 53 random bits."""
    return np.float64(_next_u64(rng) >> np.uint64(11)) * _TWO_M53


@njit(inline="always")
def _seed_stream(rng, seed, j):
    rng[0] = seed * _GOLDEN + np.uint64(j) * _SEED_MIX
    _next_u64(rng)


@njit
def _run_program(start, end, code, consts, s, node_word, node_mask, stack):
    sp = 0
    pc = start
    while pc < end:
        op = code[pc]
        arg = code[pc + 1]
        pc += 2
        if op == 0:
            stack[sp] = 1.0 if (s[node_word[arg]] & node_mask[arg]) != 0 else 0.0
            sp += 1
        elif op == 1:
            stack[sp] = consts[arg]
            sp += 1
        elif op == 2:
            stack[sp - 1] = 0.0 if stack[sp - 1] != 0.0 else 1.0
        elif op == 6:
            stack[sp - 1] = -stack[sp - 1]
        elif op == 17:
            c = stack[sp - 3]
            a = stack[sp - 2]
            b = stack[sp - 1]
            sp -= 2
            stack[sp - 1] = a if c != 0.0 else b
        else:
            b = stack[sp - 1]
            a = stack[sp - 2]
            sp -= 1
            if op == 3:
                v = 1.0 if (a != 0.0 and b != 0.0) else 0.0
            elif op == 4:
                v = 1.0 if (a != 0.0 or b != 0.0) else 0.0
            elif op == 5:
                v = 1.0 if ((a != 0.0) != (b != 0.0)) else 0.0
            elif op == 7:
                v = a + b
            elif op == 8:
                v = a - b
            elif op == 9:
                v = a * b
            elif op == 10:
                v = a / b
            elif op == 11:
                v = 1.0 if a < b else 0.0
            elif op == 12:
                v = 1.0 if a <= b else 0.0
            elif op == 13:
                v = 1.0 if a > b else 0.0
            elif op == 14:
                v = 1.0 if a >= b else 0.0
            elif op == 15:
                v = 1.0 if a == b else 0.0
            else:
                v = 1.0 if a != b else 0.0
            stack[sp - 1] = v
    return stack[0]


@njit(inline="always")
def _flip_rate(i, s, kind, in_off, in_word, in_mask, tab_off, table, prog_off, code, consts,
               node_word, node_mask, stack):
    if kind[i] == 0:
        idx = 0
        base = in_off[i]
        for j in range(base, in_off[i + 1]):
            if (s[in_word[j]] & in_mask[j]) != 0:
                idx |= 1 << (j - base)
        return table[tab_off[i] + idx]
    return _run_program(prog_off[i], prog_off[i + 1], code, consts, s, node_word, node_mask,
                        stack)


@njit(inline="always")
def _add_interval(acc, c, col, a, b, dt, n_windows, by_node):
    """Add the overlap of [a, b) with each window to acc[c, k, col] (or acc[c, col, k])."""
    tw = n_windows * dt
    if b > tw:
        b = tw
    if a >= b:
        return
    k = int(a / dt)
    if k >= n_windows:
        return
    while True:
        edge = (k + 1) * dt
        if b <= edge or k == n_windows - 1:
            if by_node:
                acc[c, k, col] += b - a
            else:
                acc[c, col, k] += b - a
            return
        if by_node:
            acc[c, k, col] += edge - a
        else:
            acc[c, col, k] += edge - a
        a = edge
        k += 1


@njit(inline="always")
def _state_slot(keys, used, count, c, key, cap):
    h = np.int64((key * _GOLDEN) >> np.uint64(38)) & (cap - 1)
    while used[c, h] != 0:
        if keys[c, h] == key:
            return h
        h = (h + 1) & (cap - 1)
    if count[c] * 4 >= cap * 3:
        return -1
    used[c, h] = 1
    keys[c, h] = key
    count[c] += 1
    return h


@njit(cache=True, parallel=True, error_model="numpy")
def simulate_kernel(
    n, n_words, node_word, node_mask, kind, in_off, in_word, in_mask, tab_off, table,
    prog_off, code, consts, max_stack, dep_off, dep_idx,
    p_on, g_node_off, g_nodes, g_opt_off, g_opt_cum, g_opt_vals, force_mask, force_val,
    out_pos, track_states,
    samples, max_time, dt, n_windows, seed, n_chunks, discrete_time,
    node_acc, state_keys, state_used, state_acc, state_count, finals, flags, n_events,
):  # pragma: no cover - compiled
    cap = state_keys.shape[1]
    n_groups = g_node_off.shape[0] - 1
    keep_finals = finals.shape[0] > 0
    for c in prange(n_chunks):
        s = np.zeros(n_words, dtype=np.uint64)
        r = np.zeros(n, dtype=np.float64)
        on_since = np.zeros(n, dtype=np.float64)
        stack = np.zeros(max_stack, dtype=np.float64)
        rng = np.zeros(1, dtype=np.uint64)
        first = (c * samples) // n_chunks
        last = ((c + 1) * samples) // n_chunks
        events = 0
        for traj in range(first, last):
            _seed_stream(rng, seed, traj)
            for w in range(n_words):
                s[w] = np.uint64(0)
            for i in range(n):
                p = p_on[i]
                if p > 0.0 and (p >= 1.0 or _uniform(rng) < p):
                    s[node_word[i]] |= node_mask[i]
            for g in range(n_groups):
                u = _uniform(rng)
                o = g_opt_off[g]
                while o < g_opt_off[g + 1] - 1 and u >= g_opt_cum[o]:
                    o += 1
                vals = g_opt_vals[o]
                for k in range(g_node_off[g + 1] - g_node_off[g]):
                    if (vals >> k) & 1:
                        i = g_nodes[g_node_off[g] + k]
                        s[node_word[i]] |= node_mask[i]
            for w in range(n_words):
                s[w] = (s[w] & ~force_mask[w]) | force_val[w]
            key = np.uint64(0)
            for i in range(n):
                on_since[i] = 0.0
                r[i] = _flip_rate(i, s, kind, in_off, in_word, in_mask, tab_off, table,
                                  prog_off, code, consts, node_word, node_mask, stack)
                if not (r[i] >= 0.0 and r[i] < np.inf):
                    flags[c] |= FLAG_BAD_RATE
                    r[i] = 0.0
                if out_pos[i] >= 0 and (s[node_word[i]] & node_mask[i]) != 0:
                    key |= _ONE << np.uint64(out_pos[i])
            slot = -1
            if track_states:
                slot = _state_slot(state_keys, state_used, state_count, c, key, cap)
                if slot < 0:
                    flags[c] |= FLAG_STATE_OVERFLOW
            state_since = 0.0
            t = 0.0
            while True:
                total = 0.0
                for i in range(n):
                    total += r[i]
                if total <= 0.0:
                    break
                tau = 1.0 if discrete_time else -np.log(1.0 - _uniform(rng)) / total
                if t + tau > max_time:
                    break
                t += tau
                x = _uniform(rng) * total
                i = 0
                cum = r[0]
                while cum <= x and i < n - 1:
                    i += 1
                    cum += r[i]
                while r[i] <= 0.0:
                    i -= 1
                events += 1
                w = node_word[i]
                if (s[w] & node_mask[i]) != 0:
                    _add_interval(node_acc, c, i, on_since[i], t, dt, n_windows, True)
                else:
                    on_since[i] = t
                s[w] ^= node_mask[i]
                if out_pos[i] >= 0:
                    if slot >= 0:
                        _add_interval(state_acc, c, slot, state_since, t, dt, n_windows, False)
                    key ^= _ONE << np.uint64(out_pos[i])
                    state_since = t
                    if track_states and slot >= 0:
                        slot = _state_slot(state_keys, state_used, state_count, c, key, cap)
                        if slot < 0:
                            flags[c] |= FLAG_STATE_OVERFLOW
                for d in range(dep_off[i], dep_off[i + 1]):
                    j = dep_idx[d]
                    v = _flip_rate(j, s, kind, in_off, in_word, in_mask, tab_off, table,
                                   prog_off, code, consts, node_word, node_mask, stack)
                    if not (v >= 0.0 and v < np.inf):
                        flags[c] |= FLAG_BAD_RATE
                        v = 0.0
                    r[j] = v
            for i in range(n):
                if (s[node_word[i]] & node_mask[i]) != 0:
                    _add_interval(node_acc, c, i, on_since[i], max_time, dt, n_windows, True)
            if slot >= 0:
                _add_interval(state_acc, c, slot, state_since, max_time, dt, n_windows, False)
            if keep_finals:
                for w in range(n_words):
                    finals[traj, w] = s[w]
        n_events[c] = events
