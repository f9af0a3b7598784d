"""AI-provider layer: provider clients, prompts, 5-Whys progress, log analysis, Ollama tools.

Pure: configs and messages in, text out. No database access and no PII redaction here (the
chat service redacts before calling :meth:`Provider.chat`).
"""

from .analysis import AnalysisResult, build_analysis_messages, chunk_for_analysis, parse_analysis
from .ollama import (
    HardwareInfo,
    ModelRecommendation,
    OllamaClient,
    OllamaModel,
    OllamaStatus,
    PullProgress,
    detect_hardware,
    recommend_models,
)
from .prompts import DOMAINS, INCIDENT_FRAMEWORK, WHY_PROTOCOL, build_system_prompt
from .providers import (
    PROVIDER_TYPES,
    ChatMessage,
    ChatResult,
    ConnectionResult,
    Provider,
    ProviderConfig,
    make_provider,
)
from .whys import MarkerStreamFilter, Progress, parse_progress, strip_markers

__all__ = [
    "AnalysisResult",
    "build_analysis_messages",
    "chunk_for_analysis",
    "parse_analysis",
    "HardwareInfo",
    "ModelRecommendation",
    "OllamaClient",
    "OllamaModel",
    "OllamaStatus",
    "PullProgress",
    "detect_hardware",
    "recommend_models",
    "DOMAINS",
    "INCIDENT_FRAMEWORK",
    "WHY_PROTOCOL",
    "build_system_prompt",
    "PROVIDER_TYPES",
    "ChatMessage",
    "ChatResult",
    "ConnectionResult",
    "Provider",
    "ProviderConfig",
    "make_provider",
    "MarkerStreamFilter",
    "Progress",
    "parse_progress",
    "strip_markers",
]
