"""Local Ollama management (status, models, pull, delete) and hardware-based model advice."""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass
from typing import Callable, Sequence

import httpx

from tftsr_kernel.errors import (
    CancelledError,
    ProviderConnectionError,
    ProviderModelError,
    ProviderResponseError,
    ValidationError,
)

from ._net import display_url, error_detail, is_loopback, one_line
from .providers import DEFAULT_API_URLS, ollama_base

__all__ = [
    "OllamaClient",
    "OllamaStatus",
    "OllamaModel",
    "PullProgress",
    "HardwareInfo",
    "ModelRecommendation",
    "detect_hardware",
    "recommend_models",
    "human_size",
]

_MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/:]{0,199}$")


def human_size(num_bytes: int | float | None) -> str:
    if num_bytes is None:
        return "?"
    value = float(num_bytes)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit in ("B", "KB") else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"  # pragma: no cover


@dataclass
class OllamaStatus:
    running: bool
    version: str | None
    url: str
    message: str


@dataclass
class OllamaModel:
    name: str
    size_bytes: int | None
    modified_at: str | None
    digest: str | None = None
    parameter_size: str | None = None
    quantization: str | None = None

    @property
    def size(self) -> str:
        return human_size(self.size_bytes)


@dataclass
class PullProgress:
    status: str
    digest: str | None = None
    total: int | None = None
    completed: int | None = None

    @property
    def percent(self) -> float | None:
        if self.total and self.completed is not None:
            return max(0.0, min(100.0, 100.0 * self.completed / self.total))
        return None

    @property
    def done(self) -> bool:
        return self.status == "success"


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not _MODEL_NAME.match(name):
        raise ValidationError(f"{name!r} is not a valid Ollama model name (e.g. llama3.2:3b).")
    return name


class OllamaClient:
    """Talks to one Ollama server. Use as a context manager or call :meth:`close`."""

    def __init__(
        self,
        base_url: str = DEFAULT_API_URLS["ollama"],
        transport: httpx.BaseTransport | None = None,
        *,
        timeout: float = 10.0,
    ):
        self.base_url = ollama_base(base_url)
        if not self.base_url.startswith(("http://", "https://")):
            raise ValidationError("The Ollama URL must start with http:// or https://.")
        self._client = httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=min(10.0, timeout)),
            trust_env=not is_loopback(self.base_url),
        )

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        self._client.close()

    @property
    def url(self) -> str:
        return display_url(self.base_url)

    def _connect_error(self, exc: httpx.HTTPError) -> ProviderConnectionError:
        if isinstance(exc, httpx.TimeoutException) and not isinstance(exc, httpx.ConnectTimeout):
            err = ProviderConnectionError(f"Ollama at {self.url} did not answer in time — is it overloaded?")
        else:
            err = ProviderConnectionError(f"Could not connect to Ollama at {self.url} — is Ollama running?")
        err.__cause__ = exc
        return err

    def _status_error(self, response: httpx.Response, what: str, name: str | None = None):
        try:
            detail = one_line(error_detail(response.text[:2000]), 200)
        except Exception:
            detail = ""
        if response.status_code == 404 and name:
            return ProviderModelError(f"The model '{name}' is not installed in Ollama at {self.url}.")
        return ProviderResponseError(
            f"Ollama could not {what} (HTTP {response.status_code})" + (f": {detail}" if detail else ".")
        )

    def _get(self, path: str, timeout: float | None = None) -> httpx.Response:
        try:
            kwargs = {"timeout": httpx.Timeout(timeout)} if timeout else {}
            return self._client.get(self.base_url + path, **kwargs)
        except httpx.HTTPError as exc:
            raise self._connect_error(exc) from exc

    # -- API -------------------------------------------------------------------------------------
    def status(self) -> OllamaStatus:
        """Is Ollama running, and which version? Never raises for a server that is down."""
        try:
            response = self._get("/api/version", timeout=3.0)
        except ProviderConnectionError as exc:
            return OllamaStatus(False, None, self.url, f"{exc} Start it with `ollama serve`.")
        if response.status_code >= 400:
            return OllamaStatus(
                False, None, self.url,
                f"Something answered at {self.url} (HTTP {response.status_code}), but it is not Ollama.",
            )
        try:
            version = response.json().get("version")
        except (ValueError, AttributeError):
            return OllamaStatus(False, None, self.url, f"Something answered at {self.url}, but it is not Ollama.")
        return OllamaStatus(True, version, self.url, f"Ollama {version or '(unknown version)'} is running at {self.url}.")

    def list_models(self) -> list[OllamaModel]:
        response = self._get("/api/tags")
        if response.status_code >= 400:
            raise self._status_error(response, "list its models")
        try:
            items = response.json().get("models") or []
        except (ValueError, AttributeError):
            raise ProviderResponseError(f"{self.url} did not answer like Ollama — check the URL.") from None
        models = []
        for item in items:
            details = item.get("details") or {}
            models.append(
                OllamaModel(
                    name=item.get("name") or item.get("model") or "?",
                    size_bytes=item.get("size"),
                    modified_at=item.get("modified_at"),
                    digest=item.get("digest"),
                    parameter_size=details.get("parameter_size"),
                    quantization=details.get("quantization_level"),
                )
            )
        return sorted(models, key=lambda m: m.name)

    def pull(
        self,
        name: str,
        progress: Callable[[PullProgress], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> PullProgress:
        """Download a model, reporting each progress line; returns the last one ("success")."""
        name = _check_name(name)
        if cancel is not None and cancel.is_set():
            raise _cancelled(name)
        last = PullProgress("starting")
        try:
            with self._client.stream(
                "POST",
                self.base_url + "/api/pull",
                json={"model": name, "name": name, "stream": True},
                timeout=httpx.Timeout(300.0, connect=10.0),
            ) as response:
                if response.status_code >= 400:
                    response.read()
                    raise self._pull_error(name, error_detail(response.text[:2000]), response.status_code)
                for line in response.iter_lines():
                    if cancel is not None and cancel.is_set():
                        raise _cancelled(name)
                    if not line.strip():
                        continue
                    try:
                        obj = json.loads(line)
                    except ValueError:
                        continue
                    if obj.get("error"):
                        raise self._pull_error(name, str(obj["error"]), None)
                    last = PullProgress(
                        status=str(obj.get("status") or ""),
                        digest=obj.get("digest"),
                        total=obj.get("total"),
                        completed=obj.get("completed"),
                    )
                    if progress is not None:
                        progress(last)
        except httpx.HTTPError as exc:
            raise self._connect_error(exc) from exc
        if not last.done:
            raise ProviderResponseError(
                f"Ollama stopped pulling '{name}' before it finished (last status: {last.status or 'none'}) — "
                "try again; completed layers are kept."
            )
        return last

    def _pull_error(self, name: str, detail: str, status: int | None):
        detail = one_line(detail, 200)
        low = detail.lower()
        if status == 404 or "not exist" in low or "not found" in low or "manifest" in low:
            return ProviderModelError(
                f"Ollama could not find the model '{name}' to pull ({detail}) — check the name at ollama.com/library."
            )
        return ProviderResponseError(f"Ollama could not pull '{name}': {detail}")

    def delete(self, name: str) -> None:
        name = _check_name(name)
        try:
            response = self._client.request(
                "DELETE", self.base_url + "/api/delete", json={"model": name, "name": name}
            )
        except httpx.HTTPError as exc:
            raise self._connect_error(exc) from exc
        if response.status_code >= 400:
            raise self._status_error(response, f"delete '{name}'", name)


def _cancelled(name: str) -> CancelledError:
    err = CancelledError(f"The download of '{name}' was cancelled; completed layers are kept.")
    err.partial = ""
    return err


# --------------------------------------------------------------------------------------------
# hardware
# --------------------------------------------------------------------------------------------
@dataclass
class HardwareInfo:
    ram_gb: float | None
    cpu_arch: str
    cpu_count: int
    gpu: str | None
    vram_gb: float | None


def _run(argv: Sequence[str]) -> str | None:
    if shutil.which(argv[0]) is None:
        return None
    try:
        done = subprocess.run(list(argv), capture_output=True, text=True, timeout=3, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def _ram_from_meminfo(path: str) -> float | None:
    try:
        with open(path, encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    kib = int(line.split()[1])
                    return round(kib / (1024 * 1024), 1)
    except (OSError, ValueError, IndexError):
        return None
    return None


def detect_hardware(
    *,
    meminfo_path: str = "/proc/meminfo",
    run: Callable[[Sequence[str]], str | None] = _run,
    system: str | None = None,
    machine: str | None = None,
) -> HardwareInfo:
    """RAM, CPU and GPU of this machine. ``run`` executes a command and returns its stdout (or
    None); it is a parameter so tests can supply canned ``nvidia-smi`` output."""
    system = system or platform.system()
    arch = machine or platform.machine() or "unknown"

    ram = None
    if system == "Linux":
        ram = _ram_from_meminfo(meminfo_path)
    elif system == "Darwin":
        out = run(["sysctl", "-n", "hw.memsize"])
        if out and out.strip().isdigit():
            ram = round(int(out.strip()) / 1024**3, 1)
    if ram is None:
        try:
            ram = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3, 1)
        except (AttributeError, ValueError, OSError):
            ram = None  # unknown; recommend_models says so instead of guessing

    gpu, vram = None, None
    out = run(["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader,nounits"])
    if out and out.strip():
        names, total_mib = [], 0.0
        for line in out.strip().splitlines():
            name, _, mem = line.rpartition(",")
            if not name:
                continue
            names.append(name.strip())
            try:
                total_mib += float(mem.strip())
            except ValueError:
                pass
        if names:
            gpu = names[0] if len(names) == 1 else f"{len(names)} × {names[0]}"
            vram = round(total_mib / 1024, 1) if total_mib else None
    if gpu is None:
        out = run(["rocm-smi", "--showproductname"])
        if out is not None:
            gpu = "AMD GPU (ROCm)"
    if gpu is None and system == "Darwin" and arch in ("arm64", "aarch64"):
        gpu = "Apple Silicon (integrated, shares system memory)"

    return HardwareInfo(ram, arch, os.cpu_count() or 1, gpu, vram)


@dataclass
class ModelRecommendation:
    name: str
    size: str
    reason: str
    recommended: bool
    min_ram_gb: float = 0.0


# name, download size (GB), minimum RAM (GB), what it is good for
_CATALOGUE = [
    ("qwen2.5:0.5b", 0.4, 2, "the smallest usable chat model; expect short, shallow answers"),
    ("llama3.2:1b", 1.3, 3, "small and quick; fine for short questions on low-memory machines"),
    ("llama3.2:3b", 2.0, 6, "a good balance of speed and quality on laptops"),
    ("phi3.5:3.8b", 2.2, 6, "an alternative to llama3.2:3b with a long context window"),
    ("llama3.1:8b", 4.9, 10, "solid troubleshooting quality for most incidents"),
    ("qwen2.5:14b", 9.0, 16, "noticeably better reasoning over long logs"),
    ("qwen2.5:32b", 20.0, 32, "strong reasoning; needs a workstation"),
    ("llama3.1:70b", 43.0, 48, "the best quality here; needs a large workstation or a GPU server"),
]
# RAM bands (GB, upper bound exclusive) and the model recommended in each: no gaps
_BANDS = [
    (4, "qwen2.5:0.5b"),
    (6, "llama3.2:1b"),
    (16, "llama3.2:3b"),
    (24, "llama3.1:8b"),
    (40, "qwen2.5:14b"),
    (64, "qwen2.5:32b"),
    (float("inf"), "llama3.1:70b"),
]


def recommend_models(hw: HardwareInfo) -> list[ModelRecommendation]:
    """Models that suit this machine, smallest first; exactly one is marked ``recommended``.

    The pick follows the RAM band (every amount of RAM has one); a GPU whose VRAM holds a
    larger model (size × 1.2) upgrades the pick. Models are listed when their minimum RAM is
    at most RAM + 2 GB or they fit in VRAM.
    """
    ram = hw.ram_gb
    vram = hw.vram_gb or 0.0
    sizes = {name: size for name, size, _m, _w in _CATALOGUE}
    if ram is None:
        pick, why = "llama3.2:3b", "RAM could not be detected, so a small model is the safe choice"
        visible_ram = 8.0
    else:
        pick = next(name for upper, name in _BANDS if ram < upper)
        why = f"best fit for {ram:g} GB of RAM"
        visible_ram = ram
    if vram:
        gpu_fit = [name for name, size, _m, _w in _CATALOGUE if size * 1.2 <= vram]
        if gpu_fit and sizes[gpu_fit[-1]] > sizes[pick]:
            pick = gpu_fit[-1]
            why = f"fits in the GPU's {vram:g} GB of VRAM, so it runs fast"

    out = []
    for name, size, min_ram, what in _CATALOGUE:
        fits_gpu = bool(vram) and size * 1.2 <= vram
        if name != pick and not (min_ram <= visible_ram + 2 or fits_gpu):
            continue
        if name == pick:
            reason = f"Recommended: {why}; {what}."
        elif min_ram > visible_ram and fits_gpu:
            reason = f"Fits in VRAM; {what}."
        elif min_ram > visible_ram:
            reason = f"Tight: wants about {min_ram} GB of RAM; {what}."
        else:
            reason = f"Fits; {what}."
        out.append(ModelRecommendation(name, f"{size:g} GB", reason, name == pick, float(min_ram)))
    return out
