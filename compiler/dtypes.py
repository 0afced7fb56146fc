"""Element types: the one table between numpy, xDSL/MLIR and ONNX.

Signless integers are signed (as in ONNX); `ui8`, `ui16`, `ui32` and `ui64`
are the unsigned types (kernels store them in signless integers of their width
and use unsigned ops on them). `i1` is bool.
"""

from __future__ import annotations

import ml_dtypes
import numpy as np
from onnx import TensorProto
from xdsl.dialects.builtin import (
    BFloat16Type,
    BytesAttr,
    DenseIntOrFPElementsAttr,
    Float16Type,
    Float32Type,
    Float64Type,
    IntegerType,
    Signedness,
    TensorType,
)
from xdsl.ir import Attribute

from compiler.errors import UnsupportedDtypeError

# (name, numpy dtype, MLIR element type, ONNX data type)
_TABLE: list[tuple[str, np.dtype, Attribute, int]] = [
    ("f32", np.dtype(np.float32), Float32Type(), TensorProto.FLOAT),
    ("f64", np.dtype(np.float64), Float64Type(), TensorProto.DOUBLE),
    ("f16", np.dtype(np.float16), Float16Type(), TensorProto.FLOAT16),
    # numpy has no bfloat16; ml_dtypes (an onnx dependency) adds it as a numpy dtype.
    ("bf16", np.dtype(ml_dtypes.bfloat16), BFloat16Type(), TensorProto.BFLOAT16),
    ("i64", np.dtype(np.int64), IntegerType(64), TensorProto.INT64),
    ("i32", np.dtype(np.int32), IntegerType(32), TensorProto.INT32),
    ("i16", np.dtype(np.int16), IntegerType(16), TensorProto.INT16),
    ("i8", np.dtype(np.int8), IntegerType(8), TensorProto.INT8),
    ("ui8", np.dtype(np.uint8), IntegerType(8, Signedness.UNSIGNED), TensorProto.UINT8),
    ("ui16", np.dtype(np.uint16), IntegerType(16, Signedness.UNSIGNED), TensorProto.UINT16),
    ("ui32", np.dtype(np.uint32), IntegerType(32, Signedness.UNSIGNED), TensorProto.UINT32),
    ("ui64", np.dtype(np.uint64), IntegerType(64, Signedness.UNSIGNED), TensorProto.UINT64),
    ("i1", np.dtype(np.bool_), IntegerType(1), TensorProto.BOOL),
]

_BY_NUMPY = {np_t: mlir_t for _, np_t, mlir_t, _ in _TABLE}
_BY_MLIR = {mlir_t: np_t for _, np_t, mlir_t, _ in _TABLE}
_BY_ONNX = {onnx_t: mlir_t for _, _, mlir_t, onnx_t in _TABLE}
_ONNX_BY_MLIR = {mlir_t: onnx_t for _, _, mlir_t, onnx_t in _TABLE}

FLOAT_TYPES: tuple[Attribute, ...] = (Float32Type(), Float64Type(), Float16Type(), BFloat16Type())
HALF_TYPES: tuple[Attribute, ...] = (Float16Type(), BFloat16Type())
"""The 16-bit floats: stored in 16 bits, computed in f32 by native code."""


def is_float(t: Attribute) -> bool:
    return t in FLOAT_TYPES


def is_half(t: Attribute) -> bool:
    """float16 or bfloat16 (element type or the element type of a shaped/vector type)."""
    return t in HALF_TYPES


def is_bool(t: Attribute) -> bool:
    return t == IntegerType(1)


def is_integer(t: Attribute) -> bool:
    return isinstance(t, IntegerType) and t.width.data > 1


def supported_element_types() -> tuple[Attribute, ...]:
    return tuple(mlir_t for _, _, mlir_t, _ in _TABLE)


def to_numpy_dtype(t: Attribute) -> np.dtype:
    try:
        return _BY_MLIR[t]
    except KeyError:
        raise UnsupportedDtypeError(f"element type {t} is not supported") from None


def from_numpy_dtype(dt: np.dtype | type) -> Attribute:
    try:
        return _BY_NUMPY[np.dtype(dt)]
    except KeyError:
        raise UnsupportedDtypeError(
            f"numpy dtype {np.dtype(dt)} is not supported",
            hint="use float32, float64, float16, bfloat16, int64, int32, int16, int8, uint64, uint32, uint16, uint8 or bool",
        ) from None


def from_onnx_dtype(onnx_type: int) -> Attribute:
    try:
        return _BY_ONNX[onnx_type]
    except KeyError:
        name = TensorProto.DataType.Name(onnx_type) if onnx_type in TensorProto.DataType.values() else str(onnx_type)
        raise UnsupportedDtypeError(
            f"element type {name} is not supported",
            hint="supported: FLOAT, DOUBLE, FLOAT16, BFLOAT16, INT64, INT32, INT16, INT8, UINT64, UINT32, UINT16, UINT8, BOOL",
        ) from None


def to_onnx_dtype(t: Attribute) -> int:
    return _ONNX_BY_MLIR[t]


def tensor_type(shape: tuple[int, ...] | list[int], element_type: Attribute) -> TensorType:
    return TensorType(element_type, list(shape))


def dense_from_numpy(array: np.ndarray, element_type: Attribute | None = None) -> DenseIntOrFPElementsAttr:
    """A dense attribute holding `array`'s bytes (no per-element Python work)."""
    if element_type is None:
        element_type = from_numpy_dtype(array.dtype)
    # Not np.ascontiguousarray: it turns rank-0 arrays into shape (1,).
    array = np.asarray(array, dtype=to_numpy_dtype(element_type), order="C")
    return DenseIntOrFPElementsAttr(
        TensorType(element_type, list(array.shape)), BytesAttr(_own_bytes(array))
    )


def _own_bytes(array: np.ndarray) -> bytes:
    """`array.tobytes()`, without the copy when `array` is all of a bytes object.

    An imported initializer is a view of the tensor's raw bytes (100 MB for
    ResNet-50): those bytes already are its contents, in C order."""
    base = array.base
    while isinstance(base, np.ndarray):
        base = base.base
    if isinstance(base, bytes) and array.flags.c_contiguous and array.nbytes == len(base):
        return base
    return array.tobytes()


def dense_to_numpy(attr: DenseIntOrFPElementsAttr) -> np.ndarray:
    """A read-only numpy view of a dense attribute's bytes."""
    dt = to_numpy_dtype(attr.get_element_type())
    shape = tuple(attr.get_shape())
    n = int(np.prod(shape)) if shape else 1
    raw = attr.data.data
    if dt == np.bool_:
        flat = np.frombuffer(raw, dtype=np.uint8) != 0
    else:
        flat = np.frombuffer(raw, dtype=dt)
    if flat.size == 1 and n != 1:
        flat = np.broadcast_to(flat, (n,))
    return flat.reshape(shape)


def dense_splat(value: np.ndarray, shape: list[int] | tuple[int, ...], element_type: Attribute) -> DenseIntOrFPElementsAttr:
    """A splat dense attribute that stores its one element once, whatever the shape."""
    one = np.asarray(np.asarray(value).reshape(-1)[:1], dtype=to_numpy_dtype(element_type), order="C")
    return DenseIntOrFPElementsAttr(TensorType(element_type, list(shape)), BytesAttr(one.tobytes()))
