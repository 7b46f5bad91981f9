"""Where each step of a packed batch continues from, and where its gradient goes.

Shared by the cell kernels: for step ``t`` of the forward or reverse
direction, which packed rows hold the previous state, and how many of the
step's sequences have one (the live prefix of the batch).
"""

import numba


@numba.njit(cache=True, inline="always")
def step_at(s, n_steps, reverse):
    """The ``s``-th step in processing order."""
    return n_steps - 1 - s if reverse else s


@numba.njit(cache=True, inline="always")
def previous_block(t, batch_sizes, starts, reverse):
    """(first row, count) of the states step ``t`` continues from.

    Forward: step t-1, all of step t's sequences.  Reverse: step t+1, the
    ``batch_sizes[t+1]`` sequences that are that long; the others start
    from the zero state.
    """
    n_steps = batch_sizes.shape[0]
    if not reverse:
        if t == 0:
            return 0, 0
        return starts[t - 1], batch_sizes[t]
    if t + 1 >= n_steps:
        return 0, 0
    return starts[t + 1], batch_sizes[t + 1]
