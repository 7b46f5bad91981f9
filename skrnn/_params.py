"""Network architecture, flat parameter layout, initialisation and the public weight attributes.

During training every parameter lives in one flat vector ``theta`` (so the
optimizer, L2 penalty, gradient clipping and gradient checks act on plain
vectors, as ``_pack``/``_unpack`` do in scikit-learn's MLP).  Between fits the
public attributes in PyTorch's layout (``recurrent_weights_``, ``embedding_``,
``coef_``, ``intercept_``) are the source of truth.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

__all__ = ["Architecture", "Layout", "CELL_GATES", "layout_for"]

CELL_GATES = {"rnn": 1, "lstm": 4, "gru": 3}
# The arrays of one direction of a layer in ``recurrent_weights_``.
_DIRECTION_KEYS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def _stored_name(key, name):
    """Entry of ``theta`` that holds public array ``name`` of direction ``key``.

    Weight matrices are stored transposed (``weight_ih_T``, ``weight_hh_T``:
    see ``Layout``), biases as they are.
    """
    return key + (name + "_T" if name.startswith("weight") else name)


def _public(p, stored):
    """Entry ``stored`` of ``unpack``'s dict in PyTorch's layout (a ``*_T`` entry's transpose)."""
    return p[stored].T if stored.endswith("_T") else p[stored]


@dataclass(frozen=True)
class Architecture:
    """Everything that fixes the parameter shapes of a network.

    ``n_inputs`` is the number of features per step, or the vocabulary size
    when ``tokens`` is True (one-hot token input, never materialised).
    """

    cell: str
    hidden_sizes: tuple
    bidirectional: bool
    relu: bool
    n_inputs: int
    tokens: bool
    embedding_dim: object  # int or None
    n_outputs: int

    @property
    def n_gates(self):
        return CELL_GATES[self.cell]

    @property
    def n_directions(self):
        return 2 if self.bidirectional else 1

    @property
    def n_layers(self):
        return len(self.hidden_sizes)

    def layer_input_size(self, layer):
        if layer > 0:
            return self.hidden_sizes[layer - 1] * self.n_directions
        if self.tokens and self.embedding_dim is not None:
            return self.embedding_dim
        return self.n_inputs

    @property
    def n_head_inputs(self):
        return self.hidden_sizes[-1] * self.n_directions

    @property
    def gathers_weight_ih(self):
        """Layer 0 reads one-hot tokens straight through ``weight_ih``.

        Its ``weight_ih`` is stored transposed, ``(vocab, G*H)``, as every
        layer's is: the column a token selects is one contiguous row (a
        gather), and its gradient a scatter-add into the rows of the touched
        tokens.
        """
        return self.tokens and self.embedding_dim is None


@dataclass(frozen=True)
class _Entry:
    name: str
    shape: tuple
    offset: int
    penalised: bool  # L2 applies to weight matrices, not biases (as in MLP)

    @property
    def size(self):
        return math.prod(self.shape)


class Layout:
    """Names, shapes and offsets of every parameter inside ``theta``.

    The recurrent weight matrices are stored transposed, as ``weight_hh_T``
    (H, G*H) and ``weight_ih_T`` (input, G*H), and each direction's
    ``weight_hh_T``, ``weight_ih_T`` and ``bias_ih`` follow one another, so
    that two stacks of them are views as well (``unpack``):

    * ``ih_bias_T`` = ``[W_ih | b_ih].T``, the operand of the input
      projection ``[inp | 1] @ ih_bias_T``;
    * ``hh_ih_bias_T`` = ``[W_hh | W_ih | b_ih].T``, which the LSTM's weight
      gradients fill with one GEMM (``_network._one_weight_gradient_gemm``).

    ``W_hh.T`` is also what the forward kernels multiply by.  Stored this
    way, none of these operands is copied or concatenated per call (a
    one-sequence predict spent ~10 us of ~110 doing so at hidden 64).
    """

    def __init__(self, arch):
        self.arch = arch
        entries = []
        offset = 0

        def add(name, shape, penalised):
            nonlocal offset
            entry = _Entry(name, tuple(int(s) for s in shape), offset, penalised)
            entries.append(entry)
            offset += entry.size

        # (name, first entry, shape) of the stacks unpack also returns.
        stacks = []
        if arch.tokens and arch.embedding_dim is not None:
            add("embedding", (arch.n_inputs, arch.embedding_dim), True)
        for layer, hidden in enumerate(arch.hidden_sizes):
            gh = arch.n_gates * hidden
            n_in = arch.layer_input_size(layer)
            for d in range(arch.n_directions):
                key = f"{layer}.{d}."
                add(key + "weight_hh_T", (hidden, gh), True)
                stacks.append((key + "hh_ih_bias_T", entries[-1].offset,
                               (hidden + n_in + 1, gh)))
                add(key + "weight_ih_T", (n_in, gh), True)
                stacks.append((key + "ih_bias_T", entries[-1].offset, (n_in + 1, gh)))
                add(key + "bias_ih", (gh,), False)
                add(key + "bias_hh", (gh,), False)
        add("coef", (arch.n_outputs, arch.n_head_inputs), True)
        add("intercept", (arch.n_outputs,), False)
        self.entries = entries
        self.size = offset
        self._views = [(e.name, e.offset, e.size, e.shape) for e in entries] + [
            (name, start, math.prod(shape), shape) for name, start, shape in stacks
        ]

    def unpack(self, theta):
        """Dict of name -> C-contiguous view into ``theta`` (writes go through).

        Every entry, and the stacks ``ih_bias_T`` and ``hh_ih_bias_T`` of each
        direction (see the class docstring).
        """
        return {
            name: theta[start : start + size].reshape(shape)
            for name, start, size, shape in self._views
        }

    @property
    def penalised_ranges(self):
        """``(start, stop)`` of every entry L2 applies to, in ``theta``."""
        return [(e.offset, e.offset + e.size) for e in self.entries if e.penalised]

    def init_theta(self, rng, dtype):
        """PyTorch's default initialisation, drawn from ``rng``.

        Recurrent weights and biases ~ U(-1/sqrt(H), 1/sqrt(H)) (nn.RNN/LSTM/GRU;
        plus 1 on the LSTM forget gate's ``bias_ih``),
        the output layer ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (nn.Linear) and the
        embedding ~ N(0, 1) (nn.Embedding).  Each array is drawn in PyTorch's
        layout, in PyTorch's order (``weight_ih`` before ``weight_hh``).
        """
        theta = np.empty(self.size, dtype=dtype)
        p = self.unpack(theta)
        arch = self.arch
        order = ["embedding"] if "embedding" in p else []
        for layer in range(arch.n_layers):
            for d in range(arch.n_directions):
                order += [_stored_name(f"{layer}.{d}.", name) for name in _DIRECTION_KEYS]
        order += ["coef", "intercept"]
        for name in order:
            target = _public(p, name)
            if name == "embedding":
                target[...] = rng.standard_normal(target.shape)
            elif name in ("coef", "intercept"):
                bound = 1.0 / np.sqrt(arch.n_head_inputs)
                target[...] = rng.uniform(-bound, bound, target.shape)
            else:
                hidden = arch.hidden_sizes[int(name.split(".")[0])]
                bound = 1.0 / np.sqrt(hidden)
                target[...] = rng.uniform(-bound, bound, target.shape)
                if arch.cell == "lstm" and name.endswith("bias_ih"):
                    # Forget gate starts open (bias 1, as Keras' unit_forget_bias
                    # and Jozefowicz et al. 2015): with torch's symmetric init the
                    # cell forgets half its state per step and long-range
                    # gradients vanish before training can open the gate.
                    target[hidden : 2 * hidden] += 1.0
        return theta

    # -- public attributes <-> theta ----------------------------------------
    def views(self, theta):
        """Public fitted attributes in PyTorch's layout, as views into ``theta``."""
        p = self.unpack(theta)
        arch = self.arch
        recurrent = []
        for layer in range(arch.n_layers):
            directions = []
            for d in range(arch.n_directions):
                key = f"{layer}.{d}."
                directions.append({name: _public(p, _stored_name(key, name))
                                   for name in _DIRECTION_KEYS})
            recurrent.append(directions)
        return {
            "recurrent_weights_": recurrent,
            "embedding_": p.get("embedding"),
            "coef_": p["coef"],
            "intercept_": p["intercept"],
        }

    def from_attributes(self, recurrent_weights, embedding, coef, intercept, dtype):
        """Pack public attributes into a new ``theta``, checking every shape."""
        theta = np.empty(self.size, dtype=dtype)
        p = self.unpack(theta)
        arch = self.arch

        def put(name, value, what):
            target = _public(p, name)
            value = np.asarray(value)
            if value.dtype.kind not in "biuf":
                raise TypeError(f"{what} must be a real numeric array, got dtype {value.dtype}.")
            if value.shape != target.shape:
                raise ValueError(
                    f"{what} has shape {value.shape}, expected {target.shape}."
                )
            target[...] = value

        if len(recurrent_weights) != arch.n_layers:
            raise ValueError(
                f"recurrent_weights_ has {len(recurrent_weights)} layers, "
                f"expected {arch.n_layers}."
            )
        for layer, directions in enumerate(recurrent_weights):
            if len(directions) != arch.n_directions:
                raise ValueError(
                    f"recurrent_weights_[{layer}] has {len(directions)} directions, "
                    f"expected {arch.n_directions}."
                )
            for d, weights in enumerate(directions):
                key = f"{layer}.{d}."
                where = f"recurrent_weights_[{layer}][{d}]"
                if not isinstance(weights, Mapping):
                    raise TypeError(
                        f"{where} must be a dict of arrays, got {type(weights).__name__}."
                    )
                missing = [k for k in _DIRECTION_KEYS if k not in weights]
                if missing:
                    raise ValueError(
                        f"{where} lacks {missing}; each direction holds the arrays "
                        f"{list(_DIRECTION_KEYS)}."
                    )
                for name in _DIRECTION_KEYS:
                    put(_stored_name(key, name), weights[name], f"{where}['{name}']")
        if "embedding" in p:
            put("embedding", embedding, "embedding_")
        put("coef", coef, "coef_")
        put("intercept", intercept, "intercept_")
        return theta


@lru_cache(maxsize=64)
def layout_for(arch):
    """The (immutable) layout of ``arch``, built once: predict on one sequence
    should not pay for rebuilding the table."""
    return Layout(arch)
