"""Converters of the recurrent ONNX ops RNN, GRU and LSTM (and onnxruntime's
com.microsoft.DynamicQuantizeLSTM, an LSTM with int8 weights), unrolled over time.

Shapes are static after pinning, so the sequence length T is known and each
op becomes ordinary graph ops:

* one GEMM of all time steps' inputs against every direction's and gate's
  input weights at once, `[T*B, I] @ [I, D*G*H]`, with the biases as its
  epilogue: the bulk of the arithmetic, at full GEMM efficiency;
* per time step, one batched matmul of the hidden state against the
  recurrent weights of both directions (`[1, D, B, H] @ [D, H, G*H]`)
  and the gate arithmetic as elementwise ops, which the graph passes fuse
  into the matmul's epilogue and a few elementwise kernels.

Directions travel together on a leading axis D (1, or 2 when bidirectional):
the reverse direction's inputs are reversed in time once, up front, so a step
reads one slice for both directions, and its outputs are reversed back once at
the end. `sequence_lens` masks with `graph.where`: past a sequence's length the
state keeps its last value (so Y_h is the last valid step's, and the reverse
direction starts at the sequence's own end) and Y is zero, as ONNX defines.

The graph grows linearly with T: a bidirectional LSTM imports as 16 graph ops
per step (both directions together), which fusion turns into 4 (a view of the
step's input slice, the recurrent matmul with its add, two elementwise
kernels). The step kernels are identical, so they are compiled once and only
the entry function grows: measured at O3 (B=1, I=H=64, on a loaded 2-core
machine), compile takes about 5.5 s + 0.19 s per step (T=100: 24 s). A loop
op in the graph dialect would make it independent of T.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from xdsl.dialects.builtin import IntegerType, TensorType
from xdsl.ir import SSAValue

from compiler import dtypes
from compiler.dialects import graph as g
from compiler.frontend.converter import MS_DOMAIN, NodeBuilder, constant_value, converter
from compiler.frontend.onnx_ops.common import (
    binary,
    cast,
    elem,
    rank,
    require_float,
    reshape,
    scalar,
    shape,
    transpose,
)
from compiler.frontend.onnx_ops.quant import U8, dynamic_quantize, matmul_operands

# ---------------------------------------------------------------------------
# Activation functions (the `activations` attribute)


@dataclass(frozen=True)
class Activation:
    """One entry of `activations`, with the alpha/beta it took (equal entries compare equal)."""

    name: str  # lower case
    params: tuple[float, ...]

    def __call__(self, b: NodeBuilder, x: SSAValue) -> SSAValue:
        p = self.params
        if self.name in _UNARY:
            cls, names = _UNARY[self.name]
            return b.make(cls, [x], **dict(zip(names, p, strict=True)))
        if self.name == "softsign":
            denom = binary(b, g.AddOp, b.make(g.AbsOp, [x]), scalar(b, 1.0, x))
            return binary(b, g.DivOp, x, denom)
        if self.name == "thresholdedrelu":
            keep = binary(b, g.GreaterOp, x, scalar(b, p[0], x))
            return b.make(g.WhereOp, [keep, x, scalar(b, 0.0, x)])
        if self.name == "affine":
            return binary(b, g.AddOp, binary(b, g.MulOp, x, scalar(b, p[0], x)), scalar(b, p[1], x))
        assert self.name == "scaledtanh", self.name
        t = b.make(g.TanhOp, [binary(b, g.MulOp, x, scalar(b, p[1], x))])
        return binary(b, g.MulOp, t, scalar(b, p[0], x))


# Activations that are one graph op: name -> (op, names of its float properties).
_UNARY: dict[str, tuple[type[g.GraphOp], tuple[str, ...]]] = {
    "sigmoid": (g.SigmoidOp, ()),
    "tanh": (g.TanhOp, ()),
    "relu": (g.ReluOp, ()),
    "softplus": (g.SoftplusOp, ()),
    "leakyrelu": (g.LeakyReluOp, ("alpha",)),
    "elu": (g.EluOp, ("alpha",)),
    "hardsigmoid": (g.HardSigmoidOp, ("alpha", "beta")),
}

# name (lower case) -> defaults of the alpha and beta it takes (ONNX's op defaults).
_ACTIVATION_PARAMS: dict[str, tuple[float, ...]] = {
    "sigmoid": (), "tanh": (), "relu": (), "softplus": (), "softsign": (),
    "leakyrelu": (0.01,), "elu": (1.0,), "thresholdedrelu": (1.0,),
    "hardsigmoid": (0.2, 0.5), "affine": (1.0, 0.0), "scaledtanh": (1.0, 1.0),
}


def _activations(b: NodeBuilder, defaults: Sequence[str], n_dirs: int) -> list[list[Activation]]:
    """The activation functions of each direction, in the op's slot order.

    activation_alpha/beta are consumed in order by the functions that take
    them; a function past the end of the list uses the ONNX op's default.
    """
    names = b.attr("activations") or list(defaults) * n_dirs
    if len(names) == len(defaults) and n_dirs == 2:
        names = list(names) * 2
    if len(names) != len(defaults) * n_dirs:
        raise b.error(f"activations needs {len(defaults) * n_dirs} names, got {len(names)}")
    alphas = [float(v) for v in b.attr("activation_alpha") or []]
    betas = [float(v) for v in b.attr("activation_beta") or []]
    funcs: list[Activation] = []
    for name in names:
        key = str(name).lower()
        if key not in _ACTIVATION_PARAMS:
            raise b.error(f"activation {name!r} is not supported")
        params = []
        for k, default in enumerate(_ACTIVATION_PARAMS[key]):
            given = alphas if k == 0 else betas
            params.append(given.pop(0) if given else default)
        funcs.append(Activation(key, tuple(params)))
    k = len(defaults)
    return [funcs[d * k : (d + 1) * k] for d in range(n_dirs)]


# ---------------------------------------------------------------------------
# Shared structure of the three ops


@dataclass
class _Layer:
    """A recurrent node's geometry and options, after checking its inputs."""

    b: NodeBuilder
    x: SSAValue  # time-major [T, B, I]
    w: SSAValue  # [D, G*H, I]
    r: SSAValue  # [D, G*H, H]
    bias: SSAValue | None  # [D, 2*G*H]
    seq_len: int
    batch: int
    hidden: int
    gates: int
    reverse: list[bool]  # per direction
    layout: int
    clip: float | None
    acts: list[list[Activation]]  # [direction][slot]
    lens: SSAValue | None  # [B] int
    lens_value: np.ndarray | None  # lens when constant
    _lens_column: SSAValue | None = None
    step: int = 0  # the time step being unrolled

    @property
    def dirs(self) -> int:
        return len(self.reverse)

    def lens_column(self) -> SSAValue:
        """sequence_lens as [1, 1, B, 1], reshaped once for every step's mask."""
        assert self.lens is not None
        if self._lens_column is None:
            self._lens_column = reshape(self.b, self.lens, [1, 1, self.batch, 1])
        return self._lens_column

    def state_shape(self) -> list[int]:
        return [1, self.dirs, self.batch, self.hidden]


def _layer(
    b: NodeBuilder,
    gates: int,
    default_acts: Sequence[str],
    weights: tuple[SSAValue, SSAValue] | None = None,
) -> _Layer:
    """The node's layer; `weights` (W, R laid out as ONNX's, of any element
    type) replace inputs 1 and 2, for the quantized contrib op."""
    x = b.input(0)
    w, r = weights or (b.input(1), b.input(2))
    require_float(b, x)
    layout = int(b.attr("layout", 0))
    if layout not in (0, 1):
        raise b.error(f"layout={layout} is not supported (0 or 1)")
    if rank(x) != 3:
        raise b.error(f"X must have rank 3, got {rank(x)}")
    if layout == 1:
        x = transpose(b, x, [1, 0, 2])
    seq_len, batch, in_size = shape(x)
    if seq_len == 0:
        raise b.error("X has no time steps (sequence length 0)")
    direction = b.attr("direction", "forward")
    reverse = {"forward": [False], "reverse": [True], "bidirectional": [False, True]}.get(direction)
    if reverse is None:
        raise b.error(f"direction={direction!r} is not supported")
    dirs = len(reverse)
    if rank(r) != 3 or shape(r)[0] != dirs or shape(r)[1] % gates:
        raise b.error(f"R must be [{dirs}, {gates}*hidden_size, hidden_size], got {list(shape(r))}")
    hidden = shape(r)[2]
    if b.attr("hidden_size") is not None and int(b.attr("hidden_size")) != hidden:
        raise b.error(f"hidden_size={b.attr('hidden_size')} differs from R's shape {list(shape(r))}")
    if shape(r)[1] != gates * hidden:
        raise b.error(f"R must be [{dirs}, {gates * hidden}, {hidden}], got {list(shape(r))}")
    if shape(w) != (dirs, gates * hidden, in_size):
        raise b.error(f"W must be [{dirs}, {gates * hidden}, {in_size}], got {list(shape(w))}")
    bias = b.opt_input(3)
    if bias is not None and shape(bias) != (dirs, 2 * gates * hidden):
        raise b.error(f"B must be [{dirs}, {2 * gates * hidden}], got {list(shape(bias))}")
    checked = ((bias, "B"),) if weights else ((w, "W"), (r, "R"), (bias, "B"))
    for v, what in checked:
        if v is not None and elem(v) != elem(x):
            raise b.error(f"{what} must have X's element type {elem(x)}, got {elem(v)}")
    clip = b.attr("clip")
    lens = b.opt_input(4)
    lens_value = None
    if lens is not None:
        if shape(lens) != (batch,) or not dtypes.is_integer(elem(lens)):
            raise b.error(f"sequence_lens must be [{batch}] integers, got {lens.type}")
        lens_value = constant_value(lens)
        if lens_value is not None and np.all(lens_value >= seq_len):
            lens, lens_value = None, None  # every sequence is full: no masking
    return _Layer(
        b, x, w, r, bias, seq_len, batch, hidden, gates, reverse, layout,
        None if clip is None else float(clip), _activations(b, default_acts, dirs), lens, lens_value,
    )


def _slice(b: NodeBuilder, v: SSAValue, axis: int, start: int, size: int, step: int = 1) -> SSAValue:
    dims = list(shape(v))
    if start == 0 and size == dims[axis] and step == 1:
        return v
    offsets, strides = [0] * len(dims), [1] * len(dims)
    offsets[axis], strides[axis], dims[axis] = start, step, size
    return b.make(g.SliceOp, [v], [TensorType(elem(v), dims)], offsets=offsets, strides=strides)


def _gate(layer: _Layer, v: SSAValue, k: int) -> SSAValue:
    """Gate k's block of the last axis (gate-major, as ONNX stacks W, R and B)."""
    return _slice(layer.b, v, rank(v) - 1, k * layer.hidden, layer.hidden)


def _reverse_time(layer: _Layer, v: SSAValue) -> SSAValue:
    """Reverses a [T, D, ...] tensor in time for the directions that run backwards."""
    b, n = layer.b, shape(v)[0]
    parts = []
    for d, rev in enumerate(layer.reverse):
        part = _slice(b, v, 1, d, 1) if layer.dirs > 1 else v
        parts.append(_slice(b, part, 0, n - 1, n, -1) if rev else part)
    return parts[0] if len(parts) == 1 else b.make(g.ConcatOp, parts, axis=1)


def _input_projection(layer: _Layer, bias: SSAValue | None, quantized: _Quantized | None = None) -> SSAValue:
    """X @ W^T + bias for every step, direction and gate: one GEMM, [T, D, B, G*H]
    with the reverse direction's time already reversed. Time-major, a step's
    slice is one contiguous range: a view, no copy, and the step kernels stay
    identical (the compiler emits them once)."""
    b, dirs, width = layer.b, layer.dirs, layer.gates * layer.hidden
    seq_len, batch, in_size = shape(layer.x)
    x2 = reshape(b, layer.x if quantized is None else _up_to_longest(layer), [seq_len * batch, in_size])
    if quantized is not None:
        xw = quantized.project(x2)
    else:
        wt = reshape(b, transpose(b, layer.w, [2, 0, 1]), [in_size, dirs * width])
        xw = b.make(g.MatMulOp, [x2, wt])
    if bias is not None:
        xw = binary(b, g.AddOp, xw, reshape(b, bias, [dirs * width]))
    xw = reshape(b, xw, [seq_len, batch, dirs, width])
    if dirs == 1 or batch == 1:
        xw = reshape(b, xw, [seq_len, dirs, batch, width])
    else:
        xw = transpose(b, xw, [0, 2, 1, 3])
    return _reverse_time(layer, xw)


def _up_to_longest(layer: _Layer) -> SSAValue:
    """X with the steps past the longest sequence zeroed: onnxruntime quantizes only
    the steps it runs, and a zero leaves the range (which always holds 0) as it is."""
    if layer.lens is None:
        return layer.x
    b = layer.b
    longest = b.make(g.ReduceMaxOp, [layer.lens], axes=[0], keepdims=True)
    steps = b.constant(np.arange(layer.seq_len, dtype=dtypes.to_numpy_dtype(elem(layer.lens))).reshape(-1, 1, 1))
    return b.make(g.WhereOp, [binary(b, g.LessOp, steps, longest), layer.x, scalar(b, 0.0, layer.x)])


def _bias_halves(layer: _Layer) -> tuple[SSAValue | None, SSAValue | None]:
    """B split into its input (Wb) and recurrent (Rb) halves, each [D, G*H]."""
    if layer.bias is None:
        return None, None
    width = layer.gates * layer.hidden
    return _slice(layer.b, layer.bias, 1, 0, width), _slice(layer.b, layer.bias, 1, width, width)


def _recurrent_weights(layer: _Layer) -> SSAValue:
    """R^T as [D, H, G*H], the right operand of a step's batched matmul."""
    return transpose(layer.b, layer.r, [0, 2, 1])


def _initial_state(layer: _Layer, index: int) -> SSAValue | None:
    """initial_h (index 5) or initial_c (6) as [1, D, B, H]; None when absent or zero."""
    v = layer.b.opt_input(index)
    if v is None:
        return None
    want = (layer.dirs, layer.batch, layer.hidden)
    if layer.layout == 1:
        want = (layer.batch, layer.dirs, layer.hidden)
    if shape(v) != want or elem(v) != elem(layer.x):
        raise layer.b.error(f"input {index} must be {list(want)} of {elem(layer.x)}, got {v.type}")
    value = constant_value(v)
    if value is not None and not value.any():
        return None  # exporters spell the default zero state out (Expand of zeros)
    if layer.layout == 1:
        v = transpose(layer.b, v, [1, 0, 2])
    return reshape(layer.b, v, layer.state_shape())


def _zeros(layer: _Layer) -> SSAValue:
    dt = dtypes.to_numpy_dtype(elem(layer.x))
    return layer.b.constant(np.zeros(layer.state_shape(), dt), elem(layer.x))


def _activate(layer: _Layer, slot: int, v: SSAValue, clip: bool = True) -> SSAValue:
    """Clip (if set: gate inputs are clipped, LSTM's cell state is not), then the
    slot's activation, per direction when they differ."""
    b = layer.b
    if clip and layer.clip is not None:
        v = b.make(g.ClipOp, [v], min=-layer.clip, max=layer.clip)
    funcs = [acts[slot] for acts in layer.acts]
    if all(f == funcs[0] for f in funcs):
        return funcs[0](b, v)
    return b.make(g.ConcatOp, [f(b, _slice(b, v, 1, d, 1)) for d, f in enumerate(funcs)], axis=1)


def _step_mask(layer: _Layer, step: int) -> SSAValue | None:
    """[1, D, B, 1] booleans: whether each direction's sequence is still running
    at this step; None when all are (no masking needed)."""
    if layer.lens is None:
        return None
    times = np.asarray(
        [layer.seq_len - 1 - step if rev else step for rev in layer.reverse], dtype=np.int64
    )
    if layer.lens_value is not None:
        running = times[:, None] < layer.lens_value.astype(np.int64)[None, :]
        if running.all():
            return None
        return layer.b.constant(running.reshape(1, layer.dirs, layer.batch, 1))
    lens = layer.lens_column()
    t = layer.b.constant(times.reshape(1, layer.dirs, 1, 1).astype(dtypes.to_numpy_dtype(elem(lens))))
    return binary(layer.b, g.LessOp, t, lens)


def _masked(layer: _Layer, mask: SSAValue | None, new: SSAValue, old: SSAValue | None) -> SSAValue:
    """`new` where the sequence runs, else `old` (zero when None)."""
    if mask is None:
        return new
    fallback = old if old is not None else scalar(layer.b, 0.0, new)
    return layer.b.make(g.WhereOp, [mask, new, fallback])


def _plus(b: NodeBuilder, x: SSAValue, y: SSAValue | None) -> SSAValue:
    return x if y is None else binary(b, g.AddOp, x, y)


def _recur(layer: _Layer, h: SSAValue | None, rt: SSAValue | _Quantized) -> SSAValue | None:
    """h @ R^T for one step; None while h is the implicit zero initial state."""
    if h is None:
        return None
    if isinstance(rt, _Quantized):
        b = layer.b
        # onnxruntime's GEMM reads the previous step's Y, which is zero once a
        # sequence has ended. (Reversed ones end at the last step: before their
        # start, masked steps hold the initial state.)
        ended = _step_mask(layer, layer.step - 1) if rt.zero_finished and layer.step > 0 else None
        rows = []
        for d, reverse in enumerate(layer.reverse):
            h_d = _slice(b, h, 1, d, 1)
            if ended is not None and not reverse:
                h_d = _masked(layer, _slice(b, ended, 1, d, 1), h_d, None)
            rows.append(reshape(b, h_d, [layer.batch, layer.hidden]))
        per_dir = [reshape(b, rt.product(d, row), [1, 1, layer.batch, layer.gates * layer.hidden]) for d, row in enumerate(rows)]
        return per_dir[0] if len(per_dir) == 1 else b.make(g.ConcatOp, per_dir, axis=1)
    return layer.b.make(g.MatMulOp, [h, rt])


@dataclass
class _Quantized:
    """DynamicQuantizeLSTM's W or R: int8/uint8 [D, K, G*H] (gate axis last) with
    a scale and zero point per direction ([D]) or per column ([D, G*H]).

    A product with it is onnxruntime's: the float operand is quantized to uint8
    over its own range (DynamicQuantizeLinear's formula, one scale for the whole
    matrix: all time steps of X at once, one direction's hidden state per
    step), the integer product is exact in int32, and its float is scaled by
    operand scale x weight scale, computed in float32 first.

    The rows of a step's product are grouped as onnxruntime groups them (its
    batch on one thread) except in one case: a reversed batch of unequal
    sequence lengths, which onnxruntime reverses row by row and this
    converter in whole, so its steps quantize other rows together (results
    then differ within a quantization step).
    """

    b: NodeBuilder
    values: SSAValue
    scale: SSAValue
    zero_point: SSAValue | None
    zero_finished: bool = False
    """Whether a sequence's hidden state enters the later steps' products as
    zero once it has ended (onnxruntime's, when the node outputs Y)."""

    def _param(self, param: SSAValue, d: int) -> SSAValue:
        row = _slice(self.b, param, 0, d, 1)
        return reshape(self.b, row, [] if rank(param) == 1 else [shape(param)[1]])

    def product(self, d: int, a: SSAValue) -> SSAValue:
        """a [M, K] (float) @ W[d] [K, G*H] as float, [M, G*H]."""
        b = self.b
        aq, a_scale, a_zp = dynamic_quantize(b, a)
        w = reshape(b, _slice(b, self.values, 0, d, 1), list(shape(self.values)[1:]))
        w_zp = None if self.zero_point is None else self._param(self.zero_point, d)
        ac, wc = matmul_operands(b, aq, a_zp, w, w_zp)
        multiplier = binary(b, g.MulOp, a_scale, self._param(self.scale, d))
        return binary(b, g.MulOp, cast(b, b.make(g.MatMulOp, [ac, wc]), elem(a)), multiplier)

    def project(self, a: SSAValue) -> SSAValue:
        """a @ W for every direction, side by side: [M, D*G*H]."""
        parts = [self.product(d, a) for d in range(shape(self.values)[0])]
        return parts[0] if len(parts) == 1 else self.b.make(g.ConcatOp, parts, axis=1)


# A step: (layer, its input projection [1, D, B, G*H], states) -> new states.
# The first state is H; states are None while they are the implicit zero.
States = list[SSAValue | None]
Step = Callable[[_Layer, SSAValue, States], list[SSAValue]]


def _unroll(layer: _Layer, xw: SSAValue, states: States, step_fn: Step) -> tuple[list[SSAValue], list[SSAValue]]:
    """Runs every time step; returns the per-step outputs and the final states."""
    ys: list[SSAValue] = []
    for s in range(layer.seq_len):
        layer.step = s
        xw_s = _slice(layer.b, xw, 0, s, 1)
        mask = _step_mask(layer, s)
        new = step_fn(layer, xw_s, states)
        ys.append(_masked(layer, mask, new[0], None))
        states = [_masked(layer, mask, n, old) for n, old in zip(new, states, strict=True)]
    final = [st if st is not None else _zeros(layer) for st in states]
    return ys, final


def _outputs(layer: _Layer, ys: list[SSAValue], finals: list[SSAValue]) -> list[SSAValue | None]:
    """Y ([T, D, B, H] or, layout 1, [B, T, D, H]) and the final states
    ([D, B, H] or [B, D, H]) for the outputs the node names."""
    b = layer.b
    wanted = [i < len(b.node.output) and bool(b.node.output[i]) for i in range(1 + len(finals))]
    outs: list[SSAValue | None] = [None] * (1 + len(finals))
    if wanted[0]:
        y = ys[0] if len(ys) == 1 else b.make(g.ConcatOp, ys, axis=0)  # [T, D, B, H]
        y = _reverse_time(layer, y)
        outs[0] = y if layer.layout == 0 else transpose(b, y, [2, 0, 1, 3])
    for i, st in enumerate(finals, start=1):
        if not wanted[i]:
            continue
        if layer.layout == 0:
            outs[i] = reshape(b, st, [layer.dirs, layer.batch, layer.hidden])
        else:
            t = transpose(b, st, [2, 1, 0, 3])
            outs[i] = reshape(b, t, [layer.batch, layer.dirs, layer.hidden])
    return outs


# ---------------------------------------------------------------------------
# The three ops


def _rnn_step(layer: _Layer, xw_s: SSAValue, states: States, rt: SSAValue) -> list[SSAValue]:
    (h,) = states
    pre = _plus(layer.b, xw_s, _recur(layer, h, rt))
    return [_activate(layer, 0, pre)]


@converter("RNN")
def convert_rnn(b: NodeBuilder) -> list[SSAValue | None]:
    layer = _layer(b, 1, ["Tanh"])
    wb, rb = _bias_halves(layer)
    xw = _input_projection(layer, None if wb is None or rb is None else binary(b, g.AddOp, wb, rb))
    rt = _recurrent_weights(layer)
    ys, finals = _unroll(
        layer, xw, [_initial_state(layer, 5)], lambda ly, x, st: _rnn_step(ly, x, st, rt)
    )
    return _outputs(layer, ys, finals)


def _zero_block(b: NodeBuilder, like: SSAValue) -> SSAValue:
    """Zeros in place of GRU's Rb_h ([D, H]) when it moves out of the input bias."""
    _, d, _, h = shape(like)
    return b.constant(np.zeros((d, h), dtypes.to_numpy_dtype(elem(like))), elem(like))


@converter("GRU")
def convert_gru(b: NodeBuilder) -> list[SSAValue | None]:
    layer = _layer(b, 3, ["Sigmoid", "Tanh"])
    hidden = layer.hidden
    before_reset = bool(b.attr("linear_before_reset", 0))
    wb, rb = _bias_halves(layer)
    rb_h = None
    if wb is not None and rb is not None:
        if before_reset:
            # Rb_h is added inside the reset gate's product: keep it per step.
            rb_h = reshape(b, _gate(layer, rb, 2), [1, layer.dirs, 1, hidden])
            rb = b.make(g.ConcatOp, [_slice(b, rb, 1, 0, 2 * hidden), _zero_block(b, rb_h)], axis=1)
        wb = binary(b, g.AddOp, wb, rb)
    xw = _input_projection(layer, wb)
    rt = _recurrent_weights(layer)
    rt_zr = _slice(b, rt, 2, 0, 2 * hidden)
    rt_h = _slice(b, rt, 2, 2 * hidden, hidden)

    def step(ly: _Layer, xw_s: SSAValue, states: States) -> list[SSAValue]:
        (h,) = states
        if before_reset:
            hr = _recur(ly, h, rt)
            zr = _plus(b, _slice(b, xw_s, 3, 0, 2 * hidden), None if hr is None else _slice(b, hr, 3, 0, 2 * hidden))
            hh = None if hr is None else _gate(ly, hr, 2)
            hh = rb_h if hh is None else _plus(b, hh, rb_h)
        else:
            hr = _recur(ly, h, rt_zr)
            zr = _plus(b, _slice(b, xw_s, 3, 0, 2 * hidden), hr)
        z = _activate(ly, 0, _gate(ly, zr, 0))
        r = _activate(ly, 0, _gate(ly, zr, 1))
        if not before_reset:
            hh = None if h is None else b.make(g.MatMulOp, [binary(b, g.MulOp, r, h), rt_h])
        elif hh is not None:
            hh = binary(b, g.MulOp, r, hh)
        cand = _activate(ly, 1, _plus(b, _gate(ly, xw_s, 2), hh))
        if h is None:  # (1 - z) * cand
            return [binary(b, g.SubOp, cand, binary(b, g.MulOp, z, cand))]
        # (1 - z) * cand + z * h, with one multiply
        return [binary(b, g.AddOp, cand, binary(b, g.MulOp, z, binary(b, g.SubOp, h, cand)))]

    ys, finals = _unroll(layer, xw, [_initial_state(layer, 5)], step)
    return _outputs(layer, ys, finals)


@converter("LSTM")
def convert_lstm(b: NodeBuilder) -> list[SSAValue | None]:
    return _lstm(b, _layer(b, 4, ["Sigmoid", "Tanh", "Tanh"]))


@converter("DynamicQuantizeLSTM", domain=MS_DOMAIN)
def convert_dynamic_quantize_lstm(b: NodeBuilder) -> list[SSAValue | None]:
    """onnxruntime's LSTM with int8/uint8 weights (what `quantize_dynamic` makes of
    an LSTM): W [D, I, 4H] and R [D, H, 4H] with the gate axis last, their scales
    and zero points as inputs 8-11; X and each step's hidden state are quantized
    dynamically for the two products (`_Quantized`)."""
    w, r = b.input(1), b.input(2)
    for v, what in ((w, "W"), (r, "R")):
        if rank(v) != 3 or elem(v) not in (IntegerType(8), U8):
            raise b.error(f"{what} must be a rank-3 int8 or uint8 tensor, got {v.type}")
    quantized = []
    for v, index, what in ((w, 8, "W"), (r, 10, "R")):
        dirs, width = shape(v)[0], shape(v)[2]
        scale, zp = b.input(index), b.opt_input(index + 1)
        if shape(scale) not in ((dirs,), (dirs, width)) or elem(scale) != elem(b.input(0)):
            raise b.error(f"{what}_scale must be [{dirs}] or [{dirs}, {width}] floats, got {scale.type}")
        if zp is not None and (shape(zp) != shape(scale) or elem(zp) != elem(v)):
            raise b.error(f"{what}_zero_point must be {list(shape(scale))} of {elem(v)}, got {zp.type}")
        outputs_y = bool(b.node.output and b.node.output[0])
        quantized.append(_Quantized(b, v, scale, zp, zero_finished=what == "R" and outputs_y))
    layout = (transpose(b, w, [0, 2, 1]), transpose(b, r, [0, 2, 1]))  # for the shape checks
    layer = _layer(b, 4, ["Sigmoid", "Tanh", "Tanh"], layout)
    return _lstm(b, layer, (quantized[0], quantized[1]))


def _lstm(
    b: NodeBuilder, layer: _Layer, quantized: tuple[_Quantized, _Quantized] | None = None
) -> list[SSAValue | None]:
    hidden, dirs = layer.hidden, layer.dirs
    couple = bool(b.attr("input_forget", 0))
    wb, rb = _bias_halves(layer)
    bias = None if wb is None or rb is None else binary(b, g.AddOp, wb, rb)
    xw = _input_projection(layer, bias, None if quantized is None else quantized[0])
    rt: SSAValue | _Quantized = _recurrent_weights(layer) if quantized is None else quantized[1]
    peep: list[SSAValue] = []
    p = b.opt_input(7)
    if p is not None:
        if shape(p) != (dirs, 3 * hidden) or elem(p) != elem(layer.x):
            raise b.error(f"P must be [{dirs}, {3 * hidden}] of {elem(layer.x)}, got {p.type}")
        p4 = reshape(b, p, [1, dirs, 1, 3 * hidden])
        peep = [_gate(layer, p4, k) for k in range(3)]  # i, o, f

    def step(ly: _Layer, xw_s: SSAValue, states: States) -> list[SSAValue]:
        h, c = states
        gates = _plus(b, xw_s, _recur(ly, h, rt))  # i, o, f, c
        i_pre, o_pre, f_pre = (_gate(ly, gates, k) for k in range(3))
        if peep and c is not None:
            i_pre = binary(b, g.AddOp, i_pre, binary(b, g.MulOp, peep[0], c))
            f_pre = binary(b, g.AddOp, f_pre, binary(b, g.MulOp, peep[2], c))
        i = _activate(ly, 0, i_pre)
        cand = _activate(ly, 1, _gate(ly, gates, 3))
        c_new = binary(b, g.MulOp, i, cand)
        if c is not None:
            f = binary(b, g.SubOp, scalar(b, 1.0, i), i) if couple else _activate(ly, 0, f_pre)
            c_new = binary(b, g.AddOp, binary(b, g.MulOp, f, c), c_new)
        if peep:
            o_pre = binary(b, g.AddOp, o_pre, binary(b, g.MulOp, peep[1], c_new))
        o = _activate(ly, 0, o_pre)
        return [binary(b, g.MulOp, o, _activate(ly, 2, c_new, clip=False)), c_new]

    states = [_initial_state(layer, 5), _initial_state(layer, 6)]
    ys, finals = _unroll(layer, xw, states, step)
    return _outputs(layer, ys, finals)
