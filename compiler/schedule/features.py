"""Features of a scheduled kernel's loops, for the tuner's cost model.

One `LoopFeatures` per `loop.for`: its depth, extent, annotation, and the
bytes each buffer has touched during one complete run of the loop (its
footprint), estimated from the index forms of the access analysis: a
dimension indexed by `c * iv + v` (v from inner loops, in [lo, hi]) spans
`|c| * step * (trips - 1) + (hi - lo) + 1` elements, capped by the dimension;
a dimension the analysis cannot read spans the whole dimension.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from xdsl.dialects import memref
from xdsl.dialects.builtin import MemRefType
from xdsl.ir import Operation

from compiler.dialects.loop import ForOp
from compiler.schedule.analysis import IV, LoopAccessAnalysis


def elem_bytes(t: MemRefType) -> int:
    """Bytes per element of a memref (at least 1; 8 for an element type of unknown width)."""
    elem = t.element_type
    bits = getattr(elem, "bitwidth", None)
    if bits is None:
        width = getattr(elem, "width", None)
        bits = width.data if width is not None else 64
    return max(1, int(bits) // 8)


@dataclass
class LoopFeatures:
    axis: str
    depth: int
    extent: int
    annotation: str
    bytes_touched: dict[str, int] = field(default_factory=dict)
    """Buffer name -> bytes of it touched by one full run of the loop."""
    loads: int = 0
    stores: int = 0
    """Memory ops in the body (any depth), per iteration of the innermost body."""

    @property
    def total_bytes(self) -> int:
        return sum(self.bytes_touched.values())


def access_spans(analysis: LoopAccessAnalysis, access: memref.LoadOp | memref.StoreOp) -> list[int]:
    """Elements of each dimension that `access` spans during one complete run
    of the analysed loop (at least 1, at most the dimension)."""
    loop = analysis.loop
    t = access.memref.type
    assert isinstance(t, MemRefType)
    spans: list[int] = []
    for dim, index in zip(t.get_shape(), access.indices, strict=True):
        form = analysis.form(index)
        if form is None:
            span = dim
        elif form.atom == IV and form.coeff:
            span = abs(form.coeff) * loop.stride * (loop.trip_count - 1) + form.hi - form.lo + 1
        elif form.has_atom:
            span = dim
        else:
            span = form.hi - form.lo + 1
        spans.append(max(1, min(dim, span)))
    return spans


def loop_features(kernel: Operation) -> list[LoopFeatures]:
    """Features of every loop of the kernel, outermost first (pre-order)."""
    out: list[LoopFeatures] = []
    for loop in (op for op in kernel.walk() if isinstance(op, ForOp)):
        analysis = LoopAccessAnalysis(loop)
        touched: dict[str, int] = {}
        names: dict[object, str] = {}
        for access in [*analysis.loads, *analysis.stores]:
            buf = access.memref
            t = buf.type
            if not isinstance(t, MemRefType):
                continue
            elements = 1
            for span in access_spans(analysis, access):
                elements *= span
            name = names.setdefault(buf, buf.name_hint or f"buf{len(names)}")
            touched[name] = max(touched.get(name, 0), elements * elem_bytes(t))
        out.append(
            LoopFeatures(
                axis=loop.axis_name,
                depth=len(list(loop.enclosing_loops())),
                extent=loop.trip_count,
                annotation=loop.kind,
                bytes_touched=touched,
                loads=sum(isinstance(a, memref.LoadOp) for a in analysis.loads),
                stores=len(analysis.stores),
            )
        )
    return out
