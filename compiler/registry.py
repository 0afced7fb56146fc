"""One registry of dialects and passes for `compiler-opt` and the Python API.

Passes are discovered: every `ModulePass` subclass with a `name` defined in a
module under the pass-holding packages below is registered by that name, so
adding a pass is adding a file.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from functools import cache

from xdsl.context import Context
from xdsl.ir import Dialect
from xdsl.passes import ModulePass
from xdsl.universe import Universe

PASS_PACKAGES = (
    "compiler.passes",
    "compiler.schedule",
    "compiler.lowering",
    "compiler.targets.cpu",
    "compiler.targets.cuda",
    "compiler.tuner.passes",
)


def _our_dialects() -> dict[str, Callable[[], Dialect]]:
    def graph() -> Dialect:
        from compiler.dialects.graph import Graph

        return Graph

    def loop() -> Dialect:
        from compiler.dialects.loop import Loop

        return Loop

    def llvm() -> Dialect:
        # xDSL's llvm ops plus the ones the CPU lowering adds (llvm.intr.tanh, ...).
        from compiler.dialects.llvm_ext import LLVMExt

        return LLVMExt

    return {"graph": graph, "loop": loop, "llvm": llvm}


@cache
def all_dialects() -> dict[str, Callable[[], Dialect]]:
    """xDSL's dialects plus ours, by name."""
    dialects = dict(Universe.get_multiverse().all_dialects)
    dialects.update(_our_dialects())
    return dialects


def make_context() -> Context:
    """A context in which every dialect we know can be parsed."""
    ctx = Context()
    for name, factory in all_dialects().items():
        ctx.register_dialect(name, factory)
    return ctx


def _iter_modules(package_name: str):
    try:
        package = importlib.import_module(package_name)
    except ModuleNotFoundError:
        return
    yield package
    for info in pkgutil.walk_packages(package.__path__, package_name + "."):
        yield importlib.import_module(info.name)


@cache
def our_passes() -> dict[str, type[ModulePass]]:
    """Every pass this project defines, by its registered name."""
    found: dict[str, type[ModulePass]] = {}
    for package_name in PASS_PACKAGES:
        for module in _iter_modules(package_name):
            for _, obj in inspect.getmembers(module, inspect.isclass):
                if (
                    issubclass(obj, ModulePass)
                    and obj.__module__ == module.__name__
                    and isinstance(getattr(obj, "name", None), str)
                    and not inspect.isabstract(obj)
                ):
                    if obj.name in found and found[obj.name] is not obj:
                        raise RuntimeError(f"two passes are named '{obj.name}'")
                    found[obj.name] = obj
    return found


@cache
def all_passes() -> dict[str, Callable[[], type[ModulePass]]]:
    """xDSL's passes plus ours; ours win on a name clash."""
    passes = dict(Universe.get_multiverse().all_passes)
    for name, cls in our_passes().items():
        passes[name] = lambda cls=cls: cls
    return passes

