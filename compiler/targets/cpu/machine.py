"""The host target: CPU detection, LLVM optimization and object-file emission.

Code is generated for the machine we run on (`llvm.get_host_cpu_name()` and
its feature string, e.g. znver4 with +avx512f here), at -O3 with LLVM's new
pass manager (loop and SLP vectorizers on). No fast-math is switched on at
this level: floating-point reassociation comes only from fast-math flags that
the IR itself carries, so results are IEEE-exact by default.

Objects are position-independent so that one object (and one cache entry)
serves both the JIT and `cc -shared`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cache

import llvmlite.binding as llvm

from compiler.schedule.target import CpuTarget
from compiler.targets.cpu.cache import ObjectCache

_init_lock = threading.Lock()
_initialized = False


def initialize_llvm() -> None:
    """Initialize LLVM's native target once per process."""
    global _initialized
    with _init_lock:
        if not _initialized:
            llvm.initialize_native_target()
            llvm.initialize_native_asmprinter()
            llvm.initialize_native_asmparser()
            _initialized = True


@dataclass(frozen=True)
class HostTarget:
    """What the generated code may assume about the CPU."""

    triple: str
    cpu: str
    features: str

    @staticmethod
    @cache
    def detect() -> HostTarget:
        initialize_llvm()
        return HostTarget(
            triple=llvm.get_process_triple(),
            cpu=llvm.get_host_cpu_name(),
            features=llvm.get_host_cpu_features().flatten(),
        )

    @staticmethod
    def generic() -> HostTarget:
        """Baseline x86-64 (no AVX): for objects meant to run on other machines."""
        initialize_llvm()
        return HostTarget(triple=llvm.get_process_triple(), cpu="x86-64", features="")

    def schedule_target(self, threads: int = 0) -> CpuTarget:
        """What default schedules and the vectorizer assume: derived from the features."""
        flags = set(self.features.split(","))
        if "+avx512f" in flags:
            bits, registers = 512, 32
        elif "+avx2" in flags or "+avx" in flags:
            bits, registers = 256, 16
        else:
            bits, registers = 128, 16
        return CpuTarget(vector_bits=bits, vector_registers=registers, threads=threads, int_dot=int_dot(flags, bits))

    @property
    def data_layout(self) -> str:
        return _data_layout(self)

    def target_machine(self, opt_level: int = 3) -> llvm.TargetMachine:
        """A fresh target machine (MCJIT takes ownership of the one it is given)."""
        initialize_llvm()
        target = llvm.Target.from_triple(self.triple)
        return target.create_target_machine(
            cpu=self.cpu,
            features=self.features,
            opt=opt_level,
            reloc="pic",
            codemodel="default",
        )


def int_dot(flags: set[str], vector_bits: int) -> str:
    """The host's i16 dot product at its vector width: vpdpwssd with VNNI, else pmaddwd."""
    if vector_bits == 512:
        if "+avx512bw" not in flags:
            return ""
        return "vpdpwssd" if "+avx512vnni" in flags else "pmaddwd"
    if vector_bits == 256:
        vnni = "+avxvnni" in flags or {"+avx512vnni", "+avx512vl"} <= flags
        return "vpdpwssd" if vnni else ("pmaddwd" if "+avx2" in flags else "")
    return "pmaddwd" if "+sse2" in flags else ""


@cache
def _data_layout(target: HostTarget) -> str:
    return str(target.target_machine().target_data)


def optimize(
    module: llvm.ModuleRef, machine: llvm.TargetMachine, opt_level: int = 3, loop_unrolling: bool = True
) -> None:
    """Run LLVM's default -O<opt_level> module pipeline (new pass manager) in place.

    `loop_unrolling=False` leaves LLVM's loop unroller out: for code whose
    schedule already unrolled what it wanted unrolled.
    """
    if opt_level <= 0:
        return
    tuning = llvm.create_pipeline_tuning_options(speed_level=opt_level)
    tuning.loop_vectorization = opt_level >= 2
    tuning.slp_vectorization = opt_level >= 2
    tuning.loop_unrolling = loop_unrolling
    builder = llvm.create_pass_builder(machine, tuning)
    builder.getModulePassManager().run(module, builder)


def parse_ir(ir_text: str, machine: llvm.TargetMachine) -> llvm.ModuleRef:
    initialize_llvm()
    module = llvm.parse_assembly(ir_text)
    module.triple = machine.triple
    module.data_layout = str(machine.target_data)
    module.verify()
    return module


def optimized_ir(ir_text: str, target: HostTarget | None = None, opt_level: int = 3) -> str:
    """The IR after LLVM's optimizer, for inspection (`compiler-opt -t llvm-opt`)."""
    target = target or HostTarget.detect()
    machine = target.target_machine(opt_level)
    module = parse_ir(ir_text, machine)
    optimize(module, machine, opt_level)
    return str(module)


def assembly(ir_text: str, target: HostTarget | None = None, opt_level: int = 3) -> str:
    """Host assembly of optimized IR (`compiler-opt -t asm`)."""
    target = target or HostTarget.detect()
    machine = target.target_machine(opt_level)
    module = parse_ir(ir_text, machine)
    optimize(module, machine, opt_level)
    return machine.emit_assembly(module)


def compile_object(
    ir_text: str,
    target: HostTarget | None = None,
    opt_level: int = 3,
    cache: ObjectCache | None = None,
    loop_unrolling: bool = True,
) -> bytes:
    """Optimize and compile LLVM IR text to an ELF object, through `cache` when given."""
    target = target or HostTarget.detect()
    key = ""
    if cache is not None:
        key = ObjectCache.key(
            ir_text,
            triple=target.triple,
            cpu=target.cpu,
            features=target.features,
            opt_level=opt_level,
            variant="" if loop_unrolling else "no-loop-unrolling",
        )
        cached = cache.get(key)
        if cached is not None:
            return cached
    machine = target.target_machine(opt_level)
    module = parse_ir(ir_text, machine)
    optimize(module, machine, opt_level, loop_unrolling)
    data = machine.emit_object(module)
    if cache is not None:
        cache.put(key, data)
    return data
