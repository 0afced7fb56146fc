"""The loop dialect: static loop nests over buffers, with schedule annotations.

A kernel is a `func.func` over static-shaped memrefs that carries the unit
attribute `loop.kernel`. Its body is `loop.for` nests whose innermost bodies
hold explicit `memref.load` / `memref.store` and upstream arith / math ops.

`loop.for` has static integer bounds (`lb`, `ub`, `step`), a name (`axis`,
unique within a kernel) and an annotation that says how it should run:

    loop.for %ow = 0 to 112 step 1 axis "ow" vectorize {
      ...
    }

The annotation is omitted when it is `serial`. The outermost loop of a nest
may name the compute stage the nest belongs to (`stage "init"`): a reduction
is an `init` nest then a `compute` nest, and a fused epilogue is an
`epilogue` nest, which `cache_write` and `compute_at` place inside others. There are no loop-carried SSA
values: reductions accumulate through memory (a buffer argument, or a small
`memref.alloca` local that LLVM promotes to registers). That keeps every loop
a plain rectangle, which is what the schedule primitives (`compiler.schedule`)
rewrite and what the tuner reads its features from (extents, annotations and
the accesses of each level).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import ClassVar

from xdsl.dialects.builtin import IndexType, IntAttr, MemRefType, NoneAttr, StringAttr
from xdsl.ir import Block, Dialect, Operation, Region, SSAValue
from xdsl.irdl import (
    IRDLOperation,
    irdl_op_definition,
    lazy_traits_def,
    opt_prop_def,
    prop_def,
    region_def,
    traits_def,
)
from xdsl.parser import Parser
from xdsl.printer import Printer
from xdsl.traits import (
    HasParent,
    IsolatedFromAbove,
    IsTerminator,
    Pure,
    RecursiveMemoryEffect,
    SingleBlockImplicitTerminator,
    ensure_terminator,
)
from xdsl.utils.exceptions import VerifyException

from compiler.dialects.allreduce import AllReduceOp
from compiler.ir_walk import ops_of_type

KERNEL_ATTR = "loop.kernel"
"""Unit attribute on a `func.func` that marks it as a loop-level kernel."""

SCHEDULE_ATTR = "loop.schedule"
"""String attribute on a kernel: a JSON schedule that `apply-schedule` applies."""

SCHEDULED_ATTR = "loop.scheduled"
"""Unit attribute on a kernel whose `loop.schedule` has been applied."""

ALGORITHM_ATTR = "loop.algorithm"
"""String attribute on a kernel: the compute definition that built it (`matmul`, ...)."""

WORKLOAD_ATTR = "loop.workload"
"""String attribute on a kernel: its workload (op, shapes, dtypes, layout, epilogue) as JSON."""

WORKLOAD_KEY_ATTR = "loop.workload_key"
"""String attribute on a kernel: a stable hash of its workload, the key of tuning records."""

CONSTANT_OPERANDS_ATTR = "loop.constant_operands"
"""i64 array on a kernel: the operands that every call passes a constant (weights)."""

SCOPE_ATTR = "loop.scope"
"""String attribute on a `memref.alloca` inside GPU block loops: where it lives on a GPU.
`shared`: one buffer per thread block (`__shared__`); `local`: per thread
(registers), its leading `loop.thread_dims` dimensions indexed by thread-bound
induction variables (each thread's own slice; the CUDA emitter drops them)."""

THREAD_DIMS_ATTR = "loop.thread_dims"
"""i64 attribute on a `local` alloca: how many leading dimensions are per-thread slices."""

SHARED = "shared"
LOCAL = "local"


def is_shared_buffer(ref: SSAValue) -> bool:
    """Whether `ref` is a GPU block's `__shared__` buffer: an alloca of scope `shared`
    (what `cache_read` makes), or one whose memref type is in a non-default memory
    space (the older spelling). The CUDA emitter declares both `__shared__`, and both
    count as seen by the whole block (its barrier checks and insertion)."""
    owner = ref.owner
    if not isinstance(owner, Operation) or owner.name != "memref.alloca":
        return False
    scope = owner.attributes.get(SCOPE_ATTR)
    if isinstance(scope, StringAttr):
        return scope.data == SHARED
    t = ref.type
    return isinstance(t, MemRefType) and not isinstance(t.memory_space, NoneAttr)

SERIAL = "serial"
PARALLEL = "parallel"
VECTORIZE = "vectorize"
UNROLL = "unroll"
CPU_ANNOTATIONS = (SERIAL, PARALLEL, VECTORIZE, UNROLL)
GPU_BLOCK_BINDINGS = ("blockIdx.x", "blockIdx.y", "blockIdx.z")
GPU_THREAD_BINDINGS = ("threadIdx.x", "threadIdx.y", "threadIdx.z")
GPU_BINDINGS = GPU_BLOCK_BINDINGS + GPU_THREAD_BINDINGS
ANNOTATIONS = CPU_ANNOTATIONS + GPU_BINDINGS


def is_gpu_binding(annotation: str) -> bool:
    return annotation in GPU_BINDINGS


@irdl_op_definition
class YieldOp(IRDLOperation):
    """The implicit terminator of a `loop.for` body; it carries no values."""

    name = "loop.yield"

    traits = lazy_traits_def(lambda: (IsTerminator(), HasParent(ForOp), Pure()))

    assembly_format = "attr-dict"

    def __init__(self) -> None:
        super().__init__()


@irdl_op_definition
class BarrierOp(IRDLOperation):
    """`loop.barrier`: every thread of a GPU block waits here (`__syncthreads()`).

    It separates phases of a block: sibling thread-bound nests inside the
    block loops, such as a cooperative copy into shared memory and the nest
    that reads it. The loop interpreter runs a thread-bound nest to the end
    before the next op, so phases are already in sequence there and the
    barrier does nothing; on a GPU it is what makes them so. It must not sit
    inside a thread-bound loop (threads that skip it would deadlock).
    """

    name = "loop.barrier"

    assembly_format = "attr-dict"

    def __init__(self) -> None:
        super().__init__()

    def verify_(self) -> None:
        parent = self.parent_op()
        while isinstance(parent, ForOp):
            if parent.kind in GPU_THREAD_BINDINGS:
                raise VerifyException(
                    f"loop.barrier inside loop '{parent.axis_name}' ({parent.kind}): a barrier separates "
                    "the thread-bound phases of a block, it cannot be inside one"
                )
            parent = parent.parent_op()


@irdl_op_definition
class ForOp(IRDLOperation):
    """A counted loop `for iv = lb; iv < ub; iv += step` with static bounds.

    `axis` names the loop (schedules address loops by it); `annotation` says
    how it runs: serial, parallel (threads), vectorize (explicit SIMD),
    unroll, or a GPU binding (blockIdx.x|y|z, threadIdx.x|y|z).
    """

    name = "loop.for"

    lb = prop_def(IntAttr)
    ub = prop_def(IntAttr)
    step = prop_def(IntAttr)
    axis = prop_def(StringAttr)
    annotation = opt_prop_def(StringAttr)
    stage = opt_prop_def(StringAttr)
    """On the outermost loop of a nest: the compute stage the nest belongs to
    (`init`, `compute`, `epilogue`, ...), so schedules can address it."""

    body = region_def("single_block")

    traits = traits_def(SingleBlockImplicitTerminator(YieldOp), RecursiveMemoryEffect())

    MAX_UNROLL: ClassVar[int] = 1024
    """Unrolled loops with more iterations than this are refused (code size)."""

    def __init__(
        self,
        lb: int,
        ub: int,
        step: int,
        axis: str,
        annotation: str = SERIAL,
        body: Region | Block | Sequence[Operation] | None = None,
        stage: str | None = None,
    ) -> None:
        if body is None:
            body = Block(arg_types=[IndexType()])
        if isinstance(body, Block):
            body = Region(body)
        elif not isinstance(body, Region):
            body = Region(Block(body, arg_types=[IndexType()]))
        props: dict[str, IntAttr | StringAttr] = {
            "lb": IntAttr(lb),
            "ub": IntAttr(ub),
            "step": IntAttr(step),
            "axis": StringAttr(axis),
        }
        if annotation != SERIAL:
            props["annotation"] = StringAttr(annotation)
        if stage is not None:
            props["stage"] = StringAttr(stage)
        super().__init__(properties=props, regions=[body])
        for trait in self.get_traits_of_type(SingleBlockImplicitTerminator):
            ensure_terminator(self, trait)

    # -- convenient accessors ---------------------------------------------

    @property
    def iv(self):
        """The induction variable (the body block's only argument)."""
        return self.body.block.args[0]

    @property
    def lower(self) -> int:
        return self.lb.data

    @property
    def upper(self) -> int:
        return self.ub.data

    @property
    def stride(self) -> int:
        return self.step.data

    @property
    def axis_name(self) -> str:
        return self.axis.data

    @property
    def kind(self) -> str:
        """The annotation as a plain string; `serial` when absent."""
        return self.annotation.data if self.annotation is not None else SERIAL

    @kind.setter
    def kind(self, value: str) -> None:
        if value == SERIAL:
            self.properties.pop("annotation", None)
        else:
            self.properties["annotation"] = StringAttr(value)

    @property
    def stage_name(self) -> str | None:
        return self.stage.data if self.stage is not None else None

    @property
    def trip_count(self) -> int:
        """Number of iterations: ceil((ub - lb) / step)."""
        return max(0, -(-(self.upper - self.lower) // self.stride))

    def set_bounds(self, lb: int, ub: int, step: int) -> None:
        self.properties["lb"] = IntAttr(lb)
        self.properties["ub"] = IntAttr(ub)
        self.properties["step"] = IntAttr(step)

    def set_axis(self, axis: str) -> None:
        self.properties["axis"] = StringAttr(axis)

    def enclosing_loops(self) -> Iterator[ForOp]:
        """The loop.for ops around this one, innermost first."""
        op = self.parent_op()
        while op is not None:
            if isinstance(op, ForOp):
                yield op
            if op.has_trait(IsolatedFromAbove):
                return
            op = op.parent_op()

    def child_loops(self) -> list[ForOp]:
        """The loop.for ops directly in this body (not nested deeper)."""
        return [op for op in self.body.block.ops if isinstance(op, ForOp)]

    def perfectly_nested_child(self) -> ForOp | None:
        """The inner loop when it is the only loop and nothing else but pure
        index arithmetic (arith ops, e.g. what split/fuse leave) is in this body."""
        loops = [op for op in self.body.block.ops if isinstance(op, ForOp)]
        if len(loops) != 1:
            return None
        for op in self.body.block.ops:
            if op is loops[0] or isinstance(op, YieldOp):
                continue
            if not op.name.startswith("arith.") or op.regions:
                return None
        return loops[0]

    # -- syntax -----------------------------------------------------------

    def print(self, printer: Printer) -> None:
        printer.print_string(" ")
        printer.print_ssa_value(self.iv)
        printer.print_string(f" = {self.lower} to {self.upper} step {self.stride} axis ")
        printer.print_string_literal(self.axis_name)
        if self.kind != SERIAL:
            printer.print_string(f" {self.kind}")
        if self.stage is not None:
            printer.print_string(" stage ")
            printer.print_string_literal(self.stage.data)
        printer.print_string(" ")
        printer.print_region(self.body, print_entry_block_args=False, print_block_terminators=False)
        printer.print_op_attributes(self.attributes, print_keyword=True)

    @classmethod
    def parse(cls, parser: Parser) -> ForOp:
        iv = parser.parse_argument(expect_type=False)
        parser.parse_punctuation("=")
        lb = parser.parse_integer(allow_boolean=False)
        parser.parse_keyword("to")
        ub = parser.parse_integer(allow_boolean=False)
        parser.parse_keyword("step")
        step = parser.parse_integer(allow_boolean=False)
        parser.parse_keyword("axis")
        axis = parser.parse_str_literal("loop axis name")
        pos = parser.pos
        annotation = parser.parse_optional_identifier() or SERIAL
        stage = None
        if annotation == "stage":
            annotation = SERIAL
            stage = parser.parse_str_literal("stage name")
        if annotation not in ANNOTATIONS:
            parser.raise_error(
                f"unknown loop annotation '{annotation}', expected one of "
                + ", ".join(ANNOTATIONS),
                pos,
                parser.pos,
            )
        if stage is None and parser.parse_optional_keyword("stage") is not None:
            stage = parser.parse_str_literal("stage name")
        region = parser.parse_region([iv.resolve(IndexType())])
        attrs = parser.parse_optional_attr_dict_with_keyword()
        op = cls(lb, ub, step, axis, annotation, region, stage)
        if attrs is not None:
            op.attributes |= attrs.data
        return op

    # -- verification -----------------------------------------------------

    def verify_(self) -> None:
        block = self.body.block
        if len(block.args) != 1 or not isinstance(block.args[0].type, IndexType):
            raise VerifyException("loop.for body must have exactly one 'index' argument")
        if self.stride <= 0:
            raise VerifyException(f"loop '{self.axis_name}': step must be positive, got {self.stride}")
        if self.upper < self.lower:
            raise VerifyException(
                f"loop '{self.axis_name}': upper bound {self.upper} is below lower bound {self.lower}"
            )
        if not self.axis_name:
            raise VerifyException("loop axis name must not be empty")
        self.verify_nesting()
        self._verify_unique_axis()

    def verify_nesting(self) -> None:
        """Annotations constrain what may sit inside what; check against ancestors."""
        kind = self.kind
        if kind not in ANNOTATIONS:
            raise VerifyException(
                f"loop '{self.axis_name}': unknown annotation '{kind}', expected one of "
                + ", ".join(ANNOTATIONS)
            )
        for outer in self.enclosing_loops():
            okind = outer.kind
            where = f"loop '{self.axis_name}' ({kind}) is nested in loop '{outer.axis_name}' ({okind})"
            if okind == VECTORIZE and kind != UNROLL:
                # The vectorizer works on straight-line bodies; only unrolled
                # loops (which become straight-line code first) may sit inside.
                raise VerifyException(f"{where}: a vectorized loop may only contain unrolled loops")
            if okind == UNROLL and kind in (PARALLEL, *GPU_BINDINGS):
                raise VerifyException(f"{where}: an unrolled loop may not contain it")
            if kind == PARALLEL and okind == PARALLEL:
                raise VerifyException(f"{where}: nested parallel loops are not supported")
            if kind == PARALLEL and is_gpu_binding(okind):
                raise VerifyException(f"{where}: CPU threads cannot run inside a GPU binding")
            if is_gpu_binding(kind):
                if okind in (PARALLEL, VECTORIZE):
                    raise VerifyException(
                        f"{where}: GPU bindings must be outside CPU-annotated loops"
                    )
                if okind == kind:
                    raise VerifyException(f"{where}: '{kind}' is bound twice")
                if kind in GPU_BLOCK_BINDINGS and okind in GPU_THREAD_BINDINGS:
                    raise VerifyException(f"{where}: block bindings must be outside thread bindings")

    def _verify_unique_axis(self) -> None:
        # Checked once per nest, by its outermost loop, over the whole kernel:
        # a walk per loop would make verifying a kernel quadratic.
        if any(True for _ in self.enclosing_loops()):
            return
        top: Operation | None = self.parent_op()
        while top is not None and not top.has_trait(IsolatedFromAbove):
            top = top.parent_op()
        if top is None:
            return
        seen: set[str] = set()
        mine = {op.axis_name for op in ops_of_type(self, ForOp)}
        for op in ops_of_type(top, ForOp):
            name = op.axis_name
            if name in seen and name in mine:
                raise VerifyException(f"loop axis name '{name}' is used twice in one kernel")
            seen.add(name)


Loop = Dialect("loop", [ForOp, YieldOp, BarrierOp, AllReduceOp], [])
