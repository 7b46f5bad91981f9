"""Flags two threads hand work over with, read and written without the GIL.

A helper thread waiting for its next lane (``skrnn/_threads.py``) spins on a
flag in ``wait_for`` instead of sleeping: waking a sleeping thread on these
VMs took 50-60 us, a round trip through a thread pool more than a small
kernel's whole shard.  The loads and stores are atomic (acquire/release) so
that LLVM neither hoists the load out of the spin loop nor reorders the
lane's writes past the flag that publishes them.
"""

import numba
import numpy as np
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


def _item_pointer(context, builder, aryty, ary_value, index):
    ary = context.make_array(aryty)(context, builder, ary_value)
    return cgutils.get_item_pointer(context, builder, aryty, ary, [index], wraparound=False)


@intrinsic
def _load_acquire(typingctx, flags, index):
    """``flags[index]`` as an atomic load with acquire ordering (int64 array)."""
    if not (isinstance(flags, types.Array) and flags.dtype == types.int64):
        return None

    def codegen(context, builder, signature, args):
        ptr = _item_pointer(context, builder, signature.args[0], args[0], args[1])
        return builder.load_atomic(ptr, "acquire", 8)

    return flags.dtype(flags, index), codegen


@intrinsic
def _store_release(typingctx, flags, index, value):
    """``flags[index] = value`` as an atomic store with release ordering (int64 array)."""
    if not (isinstance(flags, types.Array) and flags.dtype == types.int64):
        return None

    def codegen(context, builder, signature, args):
        ptr = _item_pointer(context, builder, signature.args[0], args[0], args[1])
        builder.store_atomic(args[2], ptr, "release", 8)
        return context.get_dummy_value()

    return types.void(flags, index, types.int64), codegen


# Flags only grow: polling for this value only spends the polls.
_NEVER = np.iinfo(np.int64).max


@numba.njit(cache=True, inline="always")
def _poll(flags, slot, value, max_polls):
    for _ in range(max_polls):
        if _load_acquire(flags, slot) >= value:
            return True
    return False


@numba.njit(cache=True, nogil=True)
def wait_for(flags, slot, value, max_polls, announce_slot, announce_value, settle_polls):
    """Poll until ``flags[slot] >= value``, at most ``max_polls`` times; whether it got there.

    First sets ``flags[announce_slot] = announce_value`` (unless
    ``announce_slot < 0``): the caller has let go of the GIL by then.  Once
    the flag is there, polls ``settle_polls`` more times before returning.
    """
    if announce_slot >= 0:
        _store_release(flags, announce_slot, announce_value)
    if not _poll(flags, slot, value, max_polls):
        return False
    _poll(flags, slot, _NEVER, settle_polls)
    return True


@numba.njit(cache=True)
def publish(flags, index, value):
    """``flags[index] = value``, after every write this thread made before it."""
    _store_release(flags, index, numba.int64(value))
