"""The numba kernel of the stochastic simulator (one generic kernel for every model).

Semantics are MaBoSS's (continuous-time Markov process on the asynchronous Boolean state
space, Gillespie's algorithm): in state ``s`` every node ``i`` has a flip rate ``r_i(s)``; the
time to the next transition is exponential with rate ``R = sum_i r_i(s)`` and node ``i`` flips
with probability ``r_i / R``. A trajectory stops when ``R = 0`` (a fixed point, held until
``max_time``) or when the next transition would fall after ``max_time``.

Observables are time averages over windows ``[k dt, (k+1) dt)``, ``k < floor(max_time / dt)``,
as MaBoSS reports them: the fraction of the window each node spends ON, and the fraction each
state of the output nodes is occupied, summed over trajectories. They are accumulated from the
flips alone (a signed flip time and a +-1 count per flip of a tracked node or output state;
see the loop), so one transition costs O(1) plus the update of the flip rates of the nodes that
read the flipped node.

Rates are integers in a common unit (see ``_compile.RATE_UNITS``), so the total rate is an exact
sum, zero exactly at a fixed point. Waiting times come from a ziggurat exponential sampler.

States are bit-packed in ``n_words`` uint64 words (node ``i`` is bit ``i % 64`` of word
``i // 64``), so any number of nodes is supported. Trajectories are split into ``n_chunks``
contiguous blocks (chunks); the kernel runs a range of chunks, allocates nothing and releases
the GIL, so the caller runs disjoint ranges on threads at once. Trajectory ``j`` of parameter
set ``p`` draws from its own splitmix64 stream seeded by ``(seeds[p], j)``, so a result depends
only on its set's seed and on the chunking (never on the threads or on the other sets of the
call), the latter only through the order of floating-point sums.

The same function is built twice: by numba (:data:`simulate_chunks`, cached on disk) and, from
numba's code, as a plain shared library that a process loads without importing numba
(:mod:`her2lab.boolnet._native`); their results are identical.

With ``discrete_time`` (MaBoSS's setting of that name, checked against cmaboss), the next node
is chosen the same way but every transition takes exactly ``dt``: transition ``k`` happens at
``k dt``.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit
from numba.core import types
from numba.extending import intrinsic

from her2lab.boolnet._abi import FLAG_BAD_RATE, FLAG_STATE_OVERFLOW

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_SEED_MIX = np.uint64(0xD1B54A32D192ED03)
_ONE = np.uint64(1)
_TWO_M53 = 1.0 / 9007199254740992.0


@njit(inline="always")
def _mix(z):
    """splitmix64's output function: the generator is ``_mix(state += golden)``, with the
    state a local uint64 (so it stays in a register)."""
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


@intrinsic
def _mul_high(typingctx, a, b):
    """The high 64 bits of the 128-bit product of two uint64s (one ``mul`` instruction):
    ``_mul_high(z, n)`` is ``floor(z n / 2**64)``. For ``z`` uniform on 64 bits it falls below
    any ``c <= n`` with probability ``ceil(c 2**64 / n) / 2**64``, within ``2**-64`` of
    ``c / n``: an interval of ``0 .. n - 1`` (a node's share of the total rate) is hit with its
    length's probability to within ``2**-63``."""
    sig = types.uint64(types.uint64, types.uint64)

    def codegen(context, builder, signature, args):
        wide = ir.IntType(128)
        product = builder.mul(builder.zext(args[0], wide), builder.zext(args[1], wide))
        return builder.trunc(builder.lshr(product, ir.Constant(wide, 64)), ir.IntType(64))

    return sig, codegen


@njit(inline="always")
def _unit(z):
    """Uniform on [0, 1) from the top 53 bits of ``z`` (via int64: a signed int-to-float
    conversion is one instruction, an unsigned one is not)."""
    return np.float64(np.int64(z >> np.uint64(11))) * _TWO_M53


def _exp_ziggurat_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tables of Marsaglia and Tsang's ziggurat for the standard exponential (256 layers);
    J. Stat. Softw. 5(8), 2000."""
    m2 = 4294967296.0
    de = 7.697117470131487
    te = de
    ve = 3.949659822581572e-3
    ke = np.zeros(256, dtype=np.uint64)
    we = np.zeros(256, dtype=np.float64)
    fe = np.zeros(256, dtype=np.float64)
    q = ve / np.exp(-de)
    ke[0] = np.uint64((de / q) * m2)
    ke[1] = 0
    we[0] = q / m2
    we[255] = de / m2
    fe[0] = 1.0
    fe[255] = np.exp(-de)
    for i in range(254, 0, -1):
        de = -np.log(ve / de + np.exp(-de))
        ke[i + 1] = np.uint64((de / te) * m2)
        te = de
        fe[i] = np.exp(-de)
        we[i] = de / m2
    return ke, we, fe


_ZKE, _ZWE, _ZFE = _exp_ziggurat_tables()
_ZR = 7.697117470131487
_LOW8 = np.uint64(255)
#: int64 fields of a node's record in ``node_rec`` (one cache line): its word, its mask, its
#: accumulator column (-1: none), its bit in the output state (-1: none), its readers'
#: range in ``dep_pair`` (table nodes: (reader, bit) pairs) and in ``pdep_idx`` (programs)
_REC = 8
_LOW32 = np.uint64(0xFFFFFFFF)


@njit(inline="always")
def _exponential(st):
    """A standard exponential variate and the new stream state (ziggurat: one draw and a
    table look-up in ~98% of cases; no logarithm)."""
    while True:
        st += _GOLDEN
        z = _mix(st)
        iz = np.int64(z & _LOW8)
        jz = (z >> np.uint64(32)) & _LOW32
        if jz < _ZKE[iz]:
            return np.float64(np.int64(jz)) * _ZWE[iz], st
        if iz == 0:  # the tail beyond _ZR: memoryless, so _ZR plus a fresh exponential
            st += _GOLDEN
            return _ZR - np.log(1.0 - _unit(_mix(st))), st
        x = np.float64(np.int64(jz)) * _ZWE[iz]
        st += _GOLDEN
        if _ZFE[iz] + _unit(_mix(st)) * (_ZFE[iz - 1] - _ZFE[iz]) < np.exp(-x):
            return x, st




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
def _table_index(i, s, in_off, in_word, in_shift):
    """Index into node i's rate table: bit k is the value of the k-th node of its support."""
    idx = np.uint64(0)
    base = in_off[_u(i)]
    for j in range(base, in_off[_u(i + 1)]):
        # branch-free: bit of support node j-base, shifted into place
        idx |= ((s[_u(in_word[_u(j)])] >> in_shift[_u(j)]) & _ONE) << np.uint64(j - base)
    return np.int64(idx)


@njit(inline="always")
def _u(i):
    """An index as uint64: numba indexes with an unsigned integer without the wrap-around of
    negative indices (a compare and an add per access, and the array's length kept live)."""
    return np.uint64(i)


@njit(inline="always")
def _state_row(table, row_key, count, key, cap, max_rows):
    """Row of the accumulators of output state ``key`` in a chunk, and the chunk's new row
    count.

    ``table`` (the chunk's) is an open-addressing hash table of (key, row) pairs side by side
    (one cache line holds both; row -1 marks an empty slot); rows are handed out in order of
    first visit, so only the rows of states actually met are ever touched. -1 when full."""
    ikey = np.int64(key)
    h = np.int64((key * _GOLDEN) >> np.uint64(38)) & (cap - 1)
    while table[_u(2 * h + 1)] >= 0:
        if table[_u(2 * h)] == ikey:
            return table[_u(2 * h + 1)], count
        h = (h + 1) & (cap - 1)
    if count >= max_rows:
        return -1, count
    table[_u(2 * h)] = ikey
    table[_u(2 * h + 1)] = count
    row_key[_u(count)] = key
    return count, count + 1


@njit(inline="always")
def _to_units(v, inv_unit, max_units):
    """A float rate from a program in the kernel's integer units; -1 if invalid or too large."""
    if not (v >= 0.0 and v < np.inf):
        return -1
    q = v * inv_unit + 0.5
    if q > max_units:
        return -1
    return np.int64(q)


@njit(inline="always")
def _one_minus_exp(x):
    """``1 - exp(-x)``, accurate for small ``x`` (np.expm1 would call a helper of numba's,
    which the shared library does not have)."""
    return x * (1.0 - 0.5 * x) if x < 1e-5 else 1.0 - np.exp(-x)


@njit(inline="always")
def _integrate(nacc, col, p, t0, t1, a, b, dt, inv_dt, n_windows):
    """Bring an integrated node's P(ON) ``p`` from ``t0`` to ``t1`` under constant flip rates
    (``a`` up while OFF, ``b`` down while ON, per time unit), adding its time ON in each window
    to ``nacc[k, 2 col]``; returns P(ON) at ``t1``. The two-state chain's solution, exact:
    ``p(t) = q + (p - q) exp(-r t)`` with ``r = a + b``, ``q = a / r``; one exponential for
    all the whole windows crossed."""
    if t1 <= t0:
        return p
    r = a + b
    if r == 0.0:
        if p == 0.0:
            return p  # OFF and nothing to turn it on: adds nothing
        q = 0.0
    else:
        q = a / r
    k = np.int64(t0 * inv_dt)
    whole = -1.0  # 1 - exp(-r dt), computed when a whole window is first crossed
    while t0 < t1 and k < n_windows:
        end = (k + 1) * dt
        if end > t1:
            end = t1
        h = end - t0
        if h > 0.0:
            if r == 0.0:
                nacc[_u(k), _u(2 * col)] += p * h
            else:
                if end - t0 == dt and t0 == k * dt:
                    if whole < 0.0:
                        whole = _one_minus_exp(r * dt)
                    gone = whole
                else:
                    gone = _one_minus_exp(r * h)
                nacc[_u(k), _u(2 * col)] += q * h + (p - q) * gone / r
                p = q + (p - q) * (1.0 - gone)
        t0 = end
        k += 1
    return p


def _chunks(
    c_lo, c_hi,
    n, n_words, node_word, node_mask, node_shift, kinds, in_off, in_word, in_shift, tab_off,
    tab_base, itable, units,
    prog_start, prog_end, code, consts, pdep_idx, node_rec, dep_pair,
    p_ons, g_node_off, g_nodes, g_opt_off, g_opt_cum, g_opt_vals, g_active, force_masks,
    force_vals,
    out_pos, track_states, node_col, marg, block_shift, discrete_time,
    samples, max_time, dt, n_windows, seeds, n_chunks,
    node_acc, state_table, row_key, state_acc, state_count,
    finals,
    flags, n_events,
    s, rt, bsum, stack, mp,
):  # pragma: no cover - compiled
    # Runs chunks c_lo .. c_hi - 1 one after the other; a chunk writes only its own rows of
    # the accumulators, so disjoint ranges can run at the same time on different threads.
    # s, rt, bsum and stack are the caller's scratch space (one set per
    # thread): the kernel allocates nothing, so it can also be built as a plain C function
    # (see _native).
    #
    # Rates are integers in units of `unit` (see _compile.RATE_UNITS): sums are exact, so the
    # total rate never drifts and is 0 exactly at a fixed point, and the choice of the next
    # node is a chain of 1-cycle integer additions.
    #
    # Parameter sets: row `p` of kinds, tab_base, units, prog_start/end, p_ons, g_active,
    # force_masks/vals describes set p; each set runs `samples` trajectories in `n_chunks`
    # chunks, chunk c of the whole call being chunk c % n_chunks of set c // n_chunks, and
    # trajectory j of set p draws from the stream seeded by (seeds[p], j).
    #
    # Integrated nodes (marg[i] != 0: the bit of node i in its own table index): nodes no
    # other node reads, whose P(ON) is carried along each trajectory instead of sampled
    # (mp[2 i], brought up to time mp[2 i + 1] whenever a node it reads flips, and at the
    # end): they never flip, their rate is left out of the total and their bit stays 0, so
    # their table index gives the rate up and the index with marg[i] flipped the rate down.
    # The other nodes' paths are those of the full chain (a node nobody reads changes no
    # other rate); the window averages have the same expectation, with the variance of the
    # integrated node's own flips removed (Rao-Blackwell).
    #
    # Rates summed by blocks of 2**block_shift nodes (bsum): the next node is found by
    # skipping whole blocks, then scanning one (the same node as a scan of all, in fewer
    # steps).
    cap = state_table.shape[1] // 2
    max_rows = state_acc.shape[1]
    inv_dt = 1.0 / dt
    max_units = np.float64(2**62 // max(n, 1))
    n_groups = g_node_off.shape[0] - 1
    keep_finals = finals.shape[0] > 0
    n_blocks = bsum.shape[0]
    block = 1 << block_shift
    for c in range(c_lo, c_hi):
        pset = c // n_chunks
        cc = c - pset * n_chunks
        kind = kinds[pset]
        base = tab_base[pset]
        unit = units[pset]
        inv_unit = 1.0 / unit
        p_on = p_ons[pset]
        force_mask = force_masks[pset]
        force_val = force_vals[pset]
        pstart = prog_start[pset]
        pend = prog_end[pset]
        seed = seeds[pset]
        # this chunk's rows (views, made once per chunk)
        nacc = node_acc[c]
        sacc = state_acc[c]
        stab = state_table[c]
        skeys = row_key[c]
        n_rows = state_count[c]
        first = (cc * samples) // n_chunks
        last = ((cc + 1) * samples) // n_chunks
        events = 0
        for traj in range(first, last):
            st = _mix(seed * _GOLDEN + np.uint64(traj) * _SEED_MIX)
            for w in range(n_words):
                s[_u(w)] = np.uint64(0)
            for i in range(n):
                # branch-free; p_on is -1 for nodes of a joint group, so they stay 0 here
                st += _GOLDEN
                s[_u(node_word[_u(i)])] |= (np.uint64(_unit(_mix(st)) < p_on[_u(i)])
                                          << node_shift[_u(i)])
            for g in range(n_groups):
                if g_active[pset, g] == 0:
                    continue
                st += _GOLDEN
                u = _unit(_mix(st))
                o = g_opt_off[g]
                while o < g_opt_off[g + 1] - 1 and u >= g_opt_cum[o]:
                    o += 1
                vals = g_opt_vals[o]
                for k in range(g_node_off[g + 1] - g_node_off[g]):
                    if (vals >> k) & 1:
                        i = g_nodes[g_node_off[g] + k]
                        s[node_word[i]] |= node_mask[i]
            for w in range(n_words):
                s[_u(w)] = (s[_u(w)] & ~force_mask[_u(w)]) | force_val[_u(w)]
            for i in range(n):
                if marg[_u(i)] != 0:
                    w = _u(node_word[_u(i)])
                    m = node_mask[_u(i)]
                    if (force_mask[w] & m) != 0:  # forced: its table is 0, so p stays
                        mp[_u(2 * i)] = 1.0 if (force_val[w] & m) != 0 else 0.0
                    else:
                        mp[_u(2 * i)] = p_on[_u(i)]
                    mp[_u(2 * i + 1)] = 0.0
                    s[w] &= ~m
            key = np.uint64(0)
            total = 0
            for b in range(n_blocks):
                bsum[_u(b)] = 0
            for i in range(n):
                ui = _u(i)
                ki = kind[ui]
                if ki == 0:
                    # absolute index (see _compile: a table's offset is a multiple of its size)
                    ti = base + tab_off[ui] + _table_index(i, s, in_off, in_word, in_shift)
                    rt[_u(2 * i + 1)] = ti
                    v = itable[_u(ti)] if marg[ui] == 0 else 0
                elif ki == 1:
                    v = _to_units(_run_program(pstart[ui], pend[ui], code, consts, s,
                                               node_word, node_mask, stack),
                                  inv_unit, max_units)
                    if v < 0:
                        flags[c] |= FLAG_BAD_RATE
                        v = 0
                else:
                    v = 0
                rt[_u(2 * i)] = v
                bsum[_u(i >> block_shift)] += v
                total += v
                if (s[_u(node_word[ui])] & node_mask[ui]) != 0:
                    # ON at t = 0: counted ON at the end of window 0 on (see below)
                    col = node_col[ui]
                    if col >= 0:
                        nacc[0, _u(2 * col + 1)] += 1.0
                    if out_pos[ui] >= 0:
                        key |= _ONE << np.uint64(out_pos[ui])
            slot = -1
            if track_states:
                slot, n_rows = _state_row(stab, skeys, n_rows, key, cap, max_rows)
                if slot < 0:
                    flags[c] |= FLAG_STATE_OVERFLOW
                else:
                    sacc[_u(slot), 1] += 1.0
            t = 0.0
            while total > 0:
                ftotal = np.float64(total)
                if discrete_time:  # MaBoSS's discrete_time: every transition takes dt
                    tau = dt
                else:
                    e, st = _exponential(st)
                    tau = e / (ftotal * unit)
                if t + tau > max_time:
                    break
                t += tau
                # the point x of [0, total) that picks the next node, in integer arithmetic:
                # floor(z total / 2**64). A float product with two conversions had cost more,
                # on the path from one transition's rate updates to the next choice; it picked
                # the same node except where a boundary between nodes fell within a few hundred
                # units (of ~2**60) of x, about 1e-14 of transitions.
                st += _GOLDEN
                x = np.int64(_mul_high(_mix(st), np.uint64(total)))
                # branch-free (a fixed number of steps, no mispredicted exits): the blocks
                # whose running sum is at most x, then the nodes of the next block likewise;
                # their count is the node a scan would stop at (rt is padded with rate-0
                # nodes up to a whole number of blocks)
                cum = 0
                before = 0
                b = 0
                for bb in range(n_blocks):
                    cum += bsum[_u(bb)]
                    le = cum <= x
                    b += le
                    before = cum if le else before
                i0 = b << block_shift
                cum = before
                k = 0
                for jj in range(block):
                    cum += rt[_u(2 * (i0 + jj))]
                    k += cum <= x
                i = i0 + k
                events += 1
                rec = _u(_REC * i)
                w = _u(node_rec[rec])
                m = np.uint64(node_rec[rec + _u(1)])
                col = node_rec[rec + _u(2)]
                op = node_rec[rec + _u(3)]
                if col >= 0 or op >= 0:
                    # Window averages from the flips alone: the time ON within window k is
                    # sum(sign * (t - k dt)) over the flips in it (sign +1 ending an ON
                    # spell, -1 starting one) plus dt if ON at the window's end; the latter
                    # is a count of +-1 steps, summed over windows by the caller. The sum and
                    # the count sit side by side. Flips past the last window land in window
                    # n_windows, which is not read.
                    k = np.int64(t * inv_dt)
                    if k > n_windows:
                        k = n_windows
                    uk = _u(k)
                    part = t - k * dt
                    if col >= 0:
                        sg = 1.0 if (s[w] & m) != 0 else -1.0
                        nacc[uk, _u(2 * col)] += sg * part
                        nacc[uk, _u(2 * col + 1)] -= sg
                    if op >= 0:
                        key ^= _ONE << np.uint64(op)
                        if slot >= 0:
                            sacc[_u(slot), _u(2 * k)] += part
                            sacc[_u(slot), _u(2 * k + 1)] -= 1.0
                            slot, n_rows = _state_row(stab, skeys, n_rows, key, cap, max_rows)
                            if slot < 0:
                                flags[c] |= FLAG_STATE_OVERFLOW
                            else:
                                sacc[_u(slot), _u(2 * k)] -= part
                                sacc[_u(slot), _u(2 * k + 1)] += 1.0
                s[w] ^= m
                for d in range(node_rec[rec + _u(4)], node_rec[rec + _u(5)]):
                    # the table index of each reader is kept up to date: flipping node i
                    # flips one bit of it
                    ud = _u(2 * d)
                    j = dep_pair[ud]
                    uj = _u(2 * j)
                    t_old = rt[uj + _u(1)]
                    tj = t_old ^ dep_pair[ud + _u(1)]
                    rt[uj + _u(1)] = tj
                    sb = marg[_u(j)]
                    if sb != 0:  # integrated: bring P(ON) up to t under the old rates
                        mp[uj] = _integrate(nacc, node_col[_u(j)], mp[uj], mp[uj + _u(1)], t,
                                            itable[_u(t_old)] * unit,
                                            itable[_u(t_old ^ sb)] * unit, dt, inv_dt,
                                            n_windows)
                        mp[uj + _u(1)] = t
                        continue
                    v = itable[_u(tj)]
                    dv = v - rt[uj]
                    rt[uj] = v
                    total += dv
                    bsum[_u(j >> block_shift)] += dv
                for d in range(node_rec[rec + _u(6)], node_rec[rec + _u(7)]):
                    j = pdep_idx[d]
                    v = 0
                    if kind[j] == 1:  # 2: a program node forced by an override (rate 0)
                        v = _to_units(_run_program(pstart[j], pend[j], code, consts, s,
                                                   node_word, node_mask, stack),
                                      inv_unit, max_units)
                        if v < 0:
                            flags[c] |= FLAG_BAD_RATE
                            v = 0
                    dv = v - rt[2 * j]
                    rt[2 * j] = v
                    total += dv
                    bsum[j >> block_shift] += dv
            for i in range(n):
                sb = marg[_u(i)]
                if sb != 0:
                    ti = rt[_u(2 * i + 1)]
                    _integrate(nacc, node_col[_u(i)], mp[_u(2 * i)], mp[_u(2 * i + 1)],
                               max_time, itable[_u(ti)] * unit, itable[_u(ti ^ sb)] * unit,
                               dt, inv_dt, n_windows)
            if keep_finals:
                for w in range(n_words):
                    finals[pset * samples + traj, w] = s[w]
        state_count[c] = n_rows
        n_events[c] = events


#: The kernel, compiled by numba (cached on disk): ``simulate_chunks(c_lo, c_hi, *args)``
#: with the arguments of :data:`ARGS`. Releases the GIL, so threads can run disjoint chunk
#: ranges in parallel.
simulate_chunks = njit(cache=True, nogil=True, error_model="numpy")(_chunks)
