"""What a run ran on: versions, the Keras backend, and the device it trained on.

Introduced in notebook 01 (every results file records it).
"""

from __future__ import annotations

import os
import platform
from importlib.metadata import PackageNotFoundError, version

BACKEND_PACKAGES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}
"""Keras backend name -> the distribution that provides it."""


def package_version(name: str) -> str | None:
    """An installed distribution's version, or None when it is not installed."""
    try:
        return version(name)
    except PackageNotFoundError:
        return None


VECTOR_EXTENSIONS = [
    ("avx512f", "AVX-512"),
    ("avx2", "AVX2"),
    ("avx", "AVX"),
    ("sve", "SVE"),
    ("asimd", "NEON"),
]
"""/proc/cpuinfo flag -> the name recorded, widest first (x86's "flags", ARM's "Features")."""


def _cpuinfo() -> dict[str, str]:
    """The fields of /proc/cpuinfo (Linux), each with its first value; empty elsewhere."""
    fields: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                key, _, value = line.partition(":")
                fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    return fields


def cpu_name() -> str:
    """The CPU's model name (from /proc/cpuinfo on Linux)."""
    return (
        _cpuinfo().get("model name") or platform.processor() or platform.machine() or "unknown CPU"
    )


def vector_extension() -> str | None:
    """The widest vector instruction set the CPU reports ("AVX-512", "AVX2", ...), or None.

    Cloud machines often report a bare family name ("AMD EPYC"), so two machines that both
    say so may be different CPUs; this tells some of them apart, and the wider extensions
    speed up the matrix products and convolutions a notebook trains with.
    """
    fields = _cpuinfo()
    flags = f"{fields.get('flags', '')} {fields.get('Features', '')}".split()
    return next((label for flag, label in VECTOR_EXTENSIONS if flag in flags), None)


def _gpus(backend: str) -> list[str]:
    """Names of the GPUs the given Keras backend trains on (empty when it uses the CPU)."""
    if backend == "tensorflow":
        import tensorflow as tf

        return [
            tf.config.experimental.get_device_details(gpu).get("device_name", gpu.name)
            for gpu in tf.config.list_physical_devices("GPU")
        ]
    if backend == "jax":
        import jax

        return [d.device_kind for d in jax.devices() if d.platform != "cpu"]
    if backend == "torch":
        import torch

        if torch.cuda.is_available():
            return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        return []
    return []


def device(backend: str | None = None) -> str:
    """The device ``backend`` (default: Keras's) trains on.

    "GPU: <names>" when the backend sees a GPU, else "CPU: <model> (<N> cores, <vector
    extension>)", e.g. "CPU: AMD EPYC (2 cores, AVX2)".
    """
    if backend is None:
        import keras

        backend = keras.backend.backend()
    try:
        gpus = _gpus(backend)
    except ImportError:  # that backend is not installed here, so it trains on nothing
        gpus = []
    if gpus:
        return "GPU: " + ", ".join(gpus)
    extension = vector_extension()
    return f"CPU: {cpu_name()} ({os.cpu_count()} cores{', ' + extension if extension else ''})"


def environment() -> dict:
    """Versions of Python, Keras, the backend and NumPy, the backend's name and the device."""
    import keras

    backend = keras.backend.backend()
    return {
        "python": platform.python_version(),
        "keras": keras.__version__,
        "backend": backend,
        "backend_version": package_version(BACKEND_PACKAGES.get(backend, backend)),
        "numpy": package_version("numpy"),
        "device": device(backend),
    }
