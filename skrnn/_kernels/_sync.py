"""Flags two threads hand work over with, read and written without the GIL.

A helper thread waiting for its next lane (``skrnn/_threads.py``) spins on a
flag in ``wait_for`` instead of sleeping: waking a sleeping thread on these
VMs took 50-60 us, a round trip through a thread pool more than a small
kernel's whole shard.  The loads and stores are atomic (acquire/release) so
that LLVM neither hoists the load out of the spin loop nor reorders the
lane's writes past the flag that publishes them.
"""

import sys

import numba
import numpy as np
from llvmlite import ir
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


@intrinsic
def _compare_exchange(typingctx, flags, index, expected, value):
    """``flags[index] = value`` if it holds ``expected``, atomically; whether it did."""
    if not (isinstance(flags, types.Array) and flags.dtype == types.int64):
        return None

    def codegen(context, builder, signature, args):
        ptr = _item_pointer(context, builder, signature.args[0], args[0], args[1])
        pair = builder.cmpxchg(ptr, args[2], args[3], "acq_rel", "acquire")
        return builder.extract_value(pair, 1)

    return types.boolean(flags, index, types.int64, types.int64), codegen


# The C call that hands the core to another runnable thread, if any, which
# LLVM resolves in the process (libc's, on Linux and macOS).  Named in the
# compiled code, so a cached kernel never depends on what a process
# registered.  None on Windows, where the spin then never yields (the
# helpers still stop spinning where the cores are oversubscribed).
_YIELD_SYMBOL = None if sys.platform == "win32" else "sched_yield"


@intrinsic
def _yield_cpu(typingctx):
    """Let another thread that wants this core run; returns at once if none does."""

    def codegen(context, builder, signature, args):
        if _YIELD_SYMBOL is not None:
            fnty = ir.FunctionType(ir.IntType(32), [])
            fn = cgutils.get_or_insert_function(builder.module, fnty, _YIELD_SYMBOL)
            builder.call(fn, [])
        return context.get_dummy_value()

    return types.void(), codegen


# Polls between two yields: ~0.5-1 us here, so a hand-over waits at most
# that long more, while a spinning thread never keeps a core from a thread
# with work for longer (two 2-thread fits on 2 cores ran 2.6x slower with
# threads spinning without yielding than with sleeping ones).
_POLLS_PER_YIELD = 1024

# Flags only grow: polling for this value only spends the polls.
_NEVER = np.iinfo(np.int64).max


@numba.njit(cache=True, inline="always")
def _poll(flags, slot, value, max_polls):
    for i in range(max_polls):
        if _load_acquire(flags, slot) >= value:
            return True
        if i % _POLLS_PER_YIELD == _POLLS_PER_YIELD - 1:
            _yield_cpu()
    return False


@numba.njit(cache=True, nogil=True)
def wait_for(flags, slot, value, max_polls, announce_slot, announce_value, settle_slot):
    """Poll until ``flags[slot] >= value``, at most ``max_polls`` times; whether it got there.

    First sets ``flags[announce_slot] = announce_value`` (unless
    ``announce_slot < 0``): the caller has let go of the GIL by then.  Once
    the flag is there, polls ``flags[settle_slot]`` more times before
    returning (unless ``settle_slot < 0``), a count the poster wrote before
    it raised the flag.
    """
    if announce_slot >= 0:
        _store_release(flags, announce_slot, announce_value)
    if not _poll(flags, slot, value, max_polls):
        return False
    if settle_slot >= 0:
        _poll(flags, slot, _NEVER, _load_acquire(flags, settle_slot))
    return True


@numba.njit(cache=True)
def post_next(flags, slot):
    """``flags[slot] += 1`` after every write this thread made before it; returns the new value.

    One call, so a Ctrl-C cannot fall between the count and the store.  The
    slot has a single writer (the thread holding the helper).
    """
    value = _load_acquire(flags, slot) + 1
    _store_release(flags, slot, value)
    return value


@numba.njit(cache=True)
def claim(flags, slot, previous, owner):
    """Set ``flags[slot]`` from ``previous`` to ``owner`` (non-zero) atomically; whether it did.

    Taking the claim and recording who holds it are one step: a Ctrl-C
    right after it still finds the claim under the owner's name.  A free
    slot holds 0; a claim left by a thread that has exited is taken over
    from that thread's id, by one of several threads trying at once.
    """
    return _compare_exchange(flags, slot, numba.int64(previous), numba.int64(owner))


@numba.njit(cache=True)
def unclaim(flags, slot):
    """Give up the claim in ``flags[slot]``."""
    _store_release(flags, slot, numba.int64(0))
