"""The kernel's interface: its arguments and its flags, without numba.

Shared by the numba kernel (:mod:`her2lab.boolnet._kernel`), its build as a shared library
(:mod:`her2lab.boolnet._native`) and the caller (:mod:`her2lab.boolnet.stochastic`), which
must not import numba to call the library.
"""

from __future__ import annotations

#: ``flags[c]`` bits set by chunk c
FLAG_STATE_OVERFLOW = 1  # more distinct output states than accumulator rows
FLAG_BAD_RATE = 2  # a rate computed at run time was negative, infinite, NaN or too large

#: The kernel's arguments after (c_lo, c_hi), in order: (name, dtype, ndim); ndim 0 is a
#: scalar. The caller passes C-contiguous arrays of exactly these dtypes.
ARGS = (
    ("n", "int64", 0), ("n_words", "int64", 0), ("node_word", "int64", 1),
    ("node_mask", "uint64", 1), ("node_shift", "uint64", 1), ("kinds", "int8", 2),
    ("in_off", "int64", 1), ("in_word", "int64", 1), ("in_shift", "uint64", 1),
    ("tab_off", "int64", 1), ("tab_base", "int64", 1), ("itable", "int64", 1),
    ("units", "float64", 1), ("prog_start", "int64", 2), ("prog_end", "int64", 2),
    ("code", "int64", 1), ("consts", "float64", 1), ("pdep_idx", "int64", 1),
    ("node_rec", "int64", 1), ("dep_pair", "int64", 1), ("p_ons", "float64", 2),
    ("g_node_off", "int64", 1),
    ("g_nodes", "int64", 1), ("g_opt_off", "int64", 1), ("g_opt_cum", "float64", 1),
    ("g_opt_vals", "int64", 1), ("g_active", "int8", 2), ("force_masks", "uint64", 2),
    ("force_vals", "uint64", 2), ("out_pos", "int64", 1), ("track_states", "int64", 0),
    ("node_col", "int64", 1), ("marg", "int64", 1), ("block_shift", "int64", 0),
    ("discrete_time", "int64", 0),
    ("samples", "int64", 0), ("max_time", "float64", 0), ("dt", "float64", 0),
    ("n_windows", "int64", 0), ("seeds", "uint64", 1), ("n_chunks", "int64", 0),
    ("node_acc", "float64", 3), ("state_table", "int64", 2),
    ("row_key", "uint64", 2), ("state_acc", "float64", 3), ("state_count", "int64", 1),
    ("finals", "uint64", 2), ("flags", "int64", 1), ("n_events", "int64", 1),
    ("s", "uint64", 1), ("rt", "int64", 1), ("bsum", "int64", 1), ("stack", "float64", 1),
    ("mp", "float64", 1),
)

#: The trailing arguments of ARGS that are scratch space, one set per thread (not results).
#: rt holds each node's rate and table index side by side (rt[2 i], rt[2 i + 1]); mp each
#: integrated node's P(ON) and the time it was last brought up to (mp[2 i], mp[2 i + 1]).
SCRATCH = ("s", "rt", "bsum", "stack", "mp")
