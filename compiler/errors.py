"""User-facing errors.

Every failure a user can cause (a bad model file, an unsupported op, a wrong
input array) is a `CompilerError`: one line that names the file, the ONNX node,
its op type and opset where they are known, and what to do about it. The CLIs
print `str(error)` and exit with status 1; they never show a traceback.
"""

from __future__ import annotations


class CompilerError(Exception):
    """Base class of every error meant for the user rather than the developer."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        node: str | None = None,
        op_type: str | None = None,
        opset: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.node = node
        self.op_type = op_type
        self.opset = opset
        self.hint = hint
        super().__init__(self.format())

    def format(self) -> str:
        where: list[str] = []
        if self.file:
            where.append(self.file)
        if self.node is not None or self.op_type is not None:
            what = f"node '{self.node}'" if self.node is not None else "node"
            if self.op_type is not None:
                op = self.op_type if self.opset is None else f"{self.op_type}, opset {self.opset}"
                what += f" ({op})"
            where.append(what)
        text = ": ".join([*where, self.message])
        if self.hint:
            text += f"; {self.hint}"
        return text.replace("\n", " ")

    def with_context(self, **kwargs: str | int | None) -> CompilerError:
        """Fill in location fields that the raiser did not know."""
        for key, value in kwargs.items():
            if getattr(self, key) is None and value is not None:
                setattr(self, key, value)
        self.args = (self.format(),)
        return self

    def __str__(self) -> str:
        return self.format()


class ModelLoadError(CompilerError):
    """The model file is missing, unreadable, truncated or not ONNX."""


class UnsupportedOpError(CompilerError):
    """An ONNX op (or an attribute combination of it) that we cannot import."""


class UnsupportedDtypeError(CompilerError):
    """A tensor element type that the compiler does not handle."""


class ShapeError(CompilerError):
    """A shape that is not static, or shapes that do not agree."""


class InputError(CompilerError):
    """A wrong input given to a compiled model at run time (name, shape, dtype)."""


class PipelineError(CompilerError):
    """A malformed pass pipeline string or an unknown pass name."""


class ConstantInputError(UnsupportedOpError):
    """An op needs a constant (axes, a target shape, pads) that comes from graph inputs.

    `graph_inputs` names those inputs; binding them at compile time
    (`compile(..., specialize={name: value})`) makes the value constant.
    `compiler.onnx_backend` does so on the first run.
    """

    def __init__(self, message: str, *, graph_inputs: tuple[str, ...] = (), **kwargs: object) -> None:
        self.graph_inputs = tuple(graph_inputs)
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
