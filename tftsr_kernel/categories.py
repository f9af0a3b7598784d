"""The 16 incident domains (issue categories) of the seed, with their labels."""

from __future__ import annotations

CATEGORIES: dict[str, str] = {
    "linux": "Linux",
    "windows": "Windows",
    "network": "Network",
    "kubernetes": "Kubernetes",
    "databases": "Databases",
    "virtualization": "Virtualization",
    "hardware": "Hardware",
    "observability": "Observability",
    "telephony": "Telephony",
    "security": "Security / Vault",
    "public_safety": "Public Safety",
    "application": "Application",
    "automation": "Automation / CI-CD",
    "hpe_infra": "HPE Infrastructure",
    "dell_hardware": "Dell Hardware",
    "identity": "Identity & Access",
}
