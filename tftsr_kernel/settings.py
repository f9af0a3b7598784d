"""Application settings persisted in the ``settings`` table (one JSON value per key)."""

from __future__ import annotations

import copy
import json
import re

from ._util import from_json, sha256_hex, to_json, utc_now
from .audit import AuditService
from .db import Database
from .errors import ValidationError


def _text(limit):
    def check(v):
        if not isinstance(v, str) or len(v) > limit:
            raise ValidationError(f"expected text of at most {limit} characters")
        return v
    return check


def _url(v):
    if not isinstance(v, str) or not re.match(r"^https?://[^\s]+$", v):
        raise ValidationError("expected an http:// or https:// URL")
    return v.rstrip("/")


def _str_list(v):
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise ValidationError("expected a list of strings")
    return v


def _optional_str_list(v):
    return None if v is None else _str_list(v)


def _patterns(v):
    if not isinstance(v, list):
        raise ValidationError("expected a list of {name, pattern} objects")
    out = []
    for item in v:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not isinstance(item.get("pattern"), str):
            raise ValidationError("each custom pattern needs a name and a pattern")
        from .pii.rules.custom import validate  # the scanner's own check (linear-time engine)

        validate(item["name"].strip(), item["pattern"])
        out.append({"name": item["name"].strip() or "Custom", "pattern": item["pattern"]})
    return out


def _positive_int(v):
    if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
        raise ValidationError("expected a positive whole number")
    return v


def _dir_list(v):
    """Absolute directory paths (normalised; duplicates dropped). They need not exist yet."""
    import os

    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise ValidationError("expected a list of absolute directory paths")
    out = []
    for x in v:
        if "\x00" in x or not os.path.isabs(x):
            raise ValidationError(f"{x!r} is not an absolute directory path")
        x = os.path.normpath(x)
        if x not in out:
            out.append(x)
    return out


def _bool(v):
    if not isinstance(v, bool):
        raise ValidationError("expected true or false")
    return v


#: every setting, its default and its validator; documented in the README
SETTINGS = {
    "ollama_url": ("http://localhost:11434", _url),
    "default_model": ("llama3.2:3b", _text(200)),  # used when a provider is added without a model
    "chat_system_prompt": ("", _text(20_000)),
    "pii_enabled_types": (None, _optional_str_list),
    "pii_custom_patterns": ([], _patterns),
    "pii_allowlist": ([], _str_list),
    "analysis_max_chars": (60_000, _positive_int),
    # server-side log import (dashboard): only files under these directories; empty = off
    "log_import_dirs": ([], _dir_list),
    # offer the model the run_shell_command tool in chat (tier 1 runs, tier 2 waits for approval)
    "chat_shell_tool": (False, _bool),
}


class SettingsService:
    def __init__(self, db: Database, audit: AuditService):
        self._db = db
        self._audit = audit

    def get_settings(self) -> dict:
        """Every setting: stored values over the defaults."""
        values = {k: copy.deepcopy(d) for k, (d, _) in SETTINGS.items()}
        for row in self._db.query("SELECT key, value FROM settings"):
            if row["key"] in SETTINGS:
                values[row["key"]] = from_json(row["value"], values[row["key"]])
        return values

    def get(self, key: str):
        if key not in SETTINGS:
            raise ValidationError(f"unknown setting {key!r}; settings: {', '.join(SETTINGS)}")
        return self.get_settings()[key]

    def update_settings(self, partial: dict) -> dict:
        """Validate and merge ``partial``; every changed key is audited (by name and value hash)."""
        if not isinstance(partial, dict):
            raise ValidationError("settings must be given as a mapping")
        clean = {}
        for key, value in partial.items():
            if key not in SETTINGS:
                raise ValidationError(f"unknown setting {key!r}; settings: {', '.join(SETTINGS)}")
            try:
                clean[key] = SETTINGS[key][1](value)
            except ValidationError as exc:
                raise ValidationError(f"setting {key}: {exc}") from None
        now = utc_now()
        with self._db.write() as conn:
            for key, value in clean.items():
                text = to_json(value)
                conn.execute(
                    "INSERT INTO settings(key, value, updated_at) VALUES (?,?,?)"
                    " ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                    (key, text, now))
                self._audit.write_audit_event("update_setting", "setting", key, {"value_sha256": sha256_hex(text)})
        return self.get_settings()

    @staticmethod
    def parse_cli_value(key: str, raw: str):
        """A CLI value: JSON when it parses (lists, numbers, booleans), else the plain text."""
        if key not in SETTINGS:
            raise ValidationError(f"unknown setting {key!r}; settings: {', '.join(SETTINGS)}")
        try:
            return json.loads(raw)
        except ValueError:
            return raw
