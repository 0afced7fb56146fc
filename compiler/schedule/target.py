"""What default schedules know about the machine: one description, filled in from the host.

`compiler.targets.cpu.machine.HostTarget.schedule_target()` derives it from
the host CPU's features (vector width) and core count; passes and rules take
it as data and never probe the machine themselves.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class CpuTarget:
    """Vector width, threads and cache sizes for CPU schedules."""

    vector_bits: int = 512
    vector_registers: int = 32
    """SIMD registers (AVX-512: 32, AVX2: 16): bounds a register tile."""
    threads: int = 0
    """0: os.cpu_count()."""
    fma_chains: int = 8
    """Independent accumulators that keep the FMA units busy (units x
    latency: 2 x 4 on Zen 3/4 and recent Intel cores). A register tile with
    fewer runs at that fraction of peak."""
    l1_bytes: int = 32 * 1024
    l2_bytes: int = 1024 * 1024
    int_dot: str = "pmaddwd"
    """The widening integer dot product of narrow (i16) convs: "vpdpwssd"
    (AVX-512 VNNI / AVX-VNNI: i16 pairs multiplied and accumulated in one
    instruction), "pmaddwd" (every x86-64: the pairs' sum, then an add) or ""
    (plain i32 multiply-adds). From the host's features, never assumed.
    With "vpdpwssd" the 8-bit convs (u8 x s8) take VNNI's vpdpbusd."""
    min_parallel_work: int = 1 << 19
    """The one parallel-work threshold: nests that execute fewer body ops (a
    conv or matmul: fewer multiply-adds) than this stay on one thread. A fork
    and join of the thread team costs microseconds (far more when the cores
    are shared), which only a few hundred microseconds of work repay."""

    @property
    def thread_count(self) -> int:
        return self.threads if self.threads > 0 else (os.cpu_count() or 1)

    def lanes(self, element_bits: int = 32) -> int:
        return max(1, self.vector_bits // element_bits)


@dataclass(frozen=True)
class GpuTarget:
    """What GPU schedules assume: CUDA's limits and the block size they aim for."""

    max_threads_per_block: int = 1024
    block_threads: int = 256
    """Threads per block of a data-parallel nest: eight warps, enough to hide
    latency on Ampere and Hopper without limiting blocks per SM."""
    warp: int = 32
