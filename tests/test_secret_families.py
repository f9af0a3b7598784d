"""The service-specific secret families (tftsr_kernel/pii/rules/{cloud,code_hosts,chat,saas,ai,keys}.py).

tests/fixtures/secrets/families.jsonl holds one realistic sample per family (made by
make_families.py beside it: random values of the documented shapes, valid checksums): each value
must be covered whole by one span named after its family, and the text around it must stay.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tftsr_kernel import pii
from tftsr_kernel.pii import DetectorConfig, Pseudonymizer
from tftsr_kernel.pii._types import (
    FAMILY_TOGGLES,
    FAMILY_TYPES,
    KNOWN_TYPE_NAMES,
    PII_TYPES,
    PRIORITY,
    SECRET_TYPES,
    TOGGLE_OF,
    TYPE_GROUPS,
    expand_types,
)
from tftsr_kernel.pii.rules import RULES
from tftsr_kernel.pii.rules._tokens import base62_crc32, entropy, github_checksum_ok

FIXTURE = Path(__file__).parent / "fixtures" / "secrets" / "families.jsonl"
ROWS = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines() if line.strip()]
#: types that name a credential for the SRE: every family type and the older specific ones
NAMED = set(FAMILY_TYPES) | {"AWSAccessKey", "AWSSecretKey", "GitHubToken", "GitLabToken", "SlackToken", "StripeKey",
                             "GoogleAPIKey", "JWT", "PrivateKey", "PasswordHash"}


def _covering(spans, text: str, value: str):
    i = text.find(value)
    assert i >= 0
    return [s for s in spans if s.start <= i and s.end >= i + len(value)]


@pytest.mark.parametrize("row", ROWS, ids=[r["id"] for r in ROWS])
def test_family_sample(row):
    text = row["text"]
    spans = pii.detect(text)
    for value in row["secrets"]:
        cover = _covering(spans, text, value)
        assert cover, f"{row['id']}: {value[:40]}... not covered whole: {[(s.type, s.text[:30]) for s in spans]}"
        assert cover[0].type in NAMED, f"{row['id']}: named {cover[0].type}, not after its family"
    out = pii.redact(text, spans, Pseudonymizer().placeholder)
    for value in row["secrets"]:
        assert value not in out
    for keep in row["keep"]:
        assert keep in out, f"{row['id']}: {keep!r} did not survive: {out[:300]}"


def test_fixture_covers_every_family_type():
    """Every registered family type appears in the fixture (so no family goes untested)."""
    seen = set()
    for row in ROWS:
        spans = pii.detect(row["text"])
        for value in row["secrets"]:
            seen.update(s.type for s in _covering(spans, row["text"], value))
    missing = sorted(set(FAMILY_TYPES) - seen)
    assert not missing, f"family types without a fixture row: {missing}"
    assert len({r["id"] for r in ROWS if r["secrets"]}) >= 150


# --- the type registry ---------------------------------------------------------------------------
def test_registry_matches_the_rules():
    emitted = {t for r in RULES for t in r.types}
    unknown = sorted(emitted - set(TOGGLE_OF))
    assert not unknown, f"rule types missing from _types.FAMILY_TOGGLES: {unknown}"
    unused = sorted(set(FAMILY_TYPES) - emitted)
    assert not unused, f"registered family types no rule reports: {unused}"
    assert len(FAMILY_TYPES) == len(set(FAMILY_TYPES)), "a family type is listed under two toggles"
    for t in FAMILY_TYPES:
        assert t in SECRET_TYPES and t in PRIORITY
        assert PRIORITY[t] > PRIORITY["Secret"] and PRIORITY[t] > PRIORITY["BearerToken"]
    assert set(FAMILY_TOGGLES) <= set(PII_TYPES)


def test_groups_and_toggles_expand():
    assert "SendGridKey" in expand_types(["SaaSToken"])
    assert {"PuTTYPrivateKey", "AgeSecretKey", "PrivateKey"} <= expand_types(["PrivateKey"])
    secrets = expand_types(["secrets"])
    assert set(FAMILY_TYPES) <= secrets and "Password" in secrets and "Email" not in secrets
    assert expand_types(["network"]) == {"IPv4", "IPv6", "MAC", "Hostname", "URLCredentials"}
    assert expand_types(["TicketId"]) == {"TicketId"}  # a custom pattern's name stays
    assert {"secrets", "SendGridKey", "SaaSToken"} <= KNOWN_TYPE_NAMES
    every_group = {t for ts in TYPE_GROUPS.values() for t in ts}
    assert every_group == set(PII_TYPES) - {"Custom"}


def test_enabling_one_toggle_detects_only_its_families():
    line = ("SENDGRID=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 "
            "DIGITALOCEAN=dop_v1_" + "7f3a9c01b2e4d5f6" * 4 + " from 10.1.2.3")
    types = {s.type for s in pii.detect(line, DetectorConfig(enabled_types=frozenset({"SaaSToken"})))}
    assert types == {"SendGridKey"}
    types = {s.type for s in pii.detect(line, DetectorConfig(enabled_types=frozenset({"secrets"})))}
    assert {"SendGridKey", "DigitalOceanToken"} <= types and "IPv4" not in types
    # a family type can be named on its own too
    types = {s.type for s in pii.detect(line, DetectorConfig(enabled_types=frozenset({"DigitalOceanToken"})))}
    assert types == {"DigitalOceanToken"}


def test_placeholder_names_the_family():
    line = "mailer: SENDGRID_API_KEY=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"
    assert pii.redact(line, pii.detect(line), Pseudonymizer().placeholder) == "mailer: SENDGRID_API_KEY=[SendGridKey_1]"


# --- checksums and entropy ----------------------------------------------------------------------
def test_github_crc32_tail():
    body = "Xq3vT9bLm2PzR7kWc1YhNdFj4sA8uE"
    token = "ghp_" + body + base62_crc32(body)
    assert github_checksum_ok(token)
    assert not github_checksum_ok("ghp_" + body + "000000")
    # with a valid tail a token is found even glued to other text (no word boundary) ...
    glued = f"id=42x{token}y"
    assert any(s.text == token and s.type == "GitHubToken" for s in pii.detect(glued))
    # ... and without one it is not
    bad = "ghp_" + body + "zzzzzz"
    assert not any(bad in s.text for s in pii.detect(f"id=42x{bad}y"))


def test_age_bech32_checksum():
    row = next(r for r in ROWS if r["id"] == "age-secret-key")
    key = row["secrets"][0]
    assert [s.text for s in pii.detect(key)] == [key]
    flipped = key[:-1] + ("Q" if key[-1] != "Q" else "P")
    assert not any(s.type == "AgeSecretKey" for s in pii.detect(flipped))


def test_documentation_placeholders_are_not_reported():
    for text in ("PREFECT_API_KEY = pnu_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", "glc_111111111111111111111111111111111111111111=",
                 "ico-XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", "token = xxxxxxxxxxxxxx.atlasv1." + "x" * 67):
        assert not any(s.type in FAMILY_TYPES for s in pii.detect(text)), text


def test_keyword_values_need_entropy():
    for text in (
        "DATADOG_API_KEY=00000000000000000000000000000000",
        "LINODE_TOKEN=" + "ab" * 32,
        "HCLOUD_TOKEN=" + "x" * 64,
    ):
        assert not any(s.type in FAMILY_TYPES for s in pii.detect(text)), text
    assert entropy("aaaa") == 0.0 and entropy("abcd") == 2.0


# --- look-alikes that must stay ------------------------------------------------------------------
LOOKALIKES = [
    "request_id=123e4567-e89b-12d3-a456-426614174000 took 12ms",
    "commit 9fceb02d0ae598e95dc970b74767f19372d61af8 merged",
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "build 8f14e45fceea167a5a36dedd4bea2543 ok",
    "at com.amazonaws.services.s3.AmazonS3Client.invoke(AmazonS3Client.java:5062)",
    "SKIPPED 12 tests, ACCOUNTING 3 records, TASK_KILLED",
    "the key-value store answered; key-pair rotation scheduled",
    "sed -e 's/\\(.*\\)/$1$2/' file",
    "vault: token renewed; datadog: agent started; heroku: deploy finished",
    "Signature verified for image nginx:1.25 (sig=ok)",
    "ACCEPT 2 packets; API-gateway healthy; EAA compliance report",
    "hf_hub_download(repo_id='bert-base-uncased') finished",
    "dapi call took 32ms; npm_config_cache=/home/ci/.npm",
    "s.1234 ms; ya29 rows; SG.mode=on; AKID=none",
    "xoxb- token missing; ghp_ prefix expected; glpat- prefix expected",
    "user:$6$ is the marker for sha512crypt",
    "QmFzZTY0IHRleHQgdGhhdCBpcyBub3QgYSBKV1Qgb3IgYW55IGtpbmQgb2Ygc2VjcmV0IGF0IGFsbCwganVzdCBwcm9zZQ==",
]


@pytest.mark.parametrize("text", LOOKALIKES)
def test_lookalikes_stay(text):
    spans = [s for s in pii.detect(text) if s.type in NAMED]
    assert not spans, [(s.type, s.text) for s in spans]


def test_aws_docs_example_key_is_redacted():
    """Decision: the AWS documentation example key is not allow-listed (redacting it costs
    nothing; an allow-list of 'known examples' would be one more way to leak)."""
    assert any(s.type == "AWSAccessKey" for s in pii.detect("AKIAIOSFODNN7EXAMPLE"))


def test_redact_command_takes_groups_and_family_types(tmp_path):
    """``python -m tftsr_kernel.pii FILE --types ...`` (what ``tftsr pii redact`` runs) with a
    group name and with a family type."""
    import os
    import subprocess
    import sys

    log = tmp_path / "app.log"
    key = "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"
    log.write_text(f"mailer SENDGRID_API_KEY={key} from 10.0.0.7\n")
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))

    def run(*args):
        return subprocess.run([sys.executable, "-m", "tftsr_kernel.pii", str(log), *args], capture_output=True,
                              text=True, env=env, timeout=120)

    out = run("--types", "secrets")
    assert out.returncode == 0 and out.stdout == "mailer SENDGRID_API_KEY=[SendGridKey_1] from 10.0.0.7\n"
    out = run("--types", "SendGridKey")
    assert out.stdout == "mailer SENDGRID_API_KEY=[SendGridKey_1] from 10.0.0.7\n"
    out = run("--types", "network")
    assert key in out.stdout and "[IPv4_1]" in out.stdout
    out = run("--types", "NoSuchType")
    assert out.returncode == 2 and "unknown type" in out.stderr


def test_settings_panel_groups_and_the_egress_guard(wb):
    """``pii_enabled_types: ["secrets"]`` shows as the credential toggles checked in the settings
    panel; unchecking one toggle there turns its families off for the egress guard."""
    from widgets import SettingsPanel

    sendgrid = "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"
    do = "dop_v1_" + "7f3a9c01b2e4d5f6" * 4
    line = f"deploy from 10.0.0.7: sendgrid {sendgrid} digitalocean {do}"
    wb.settings.update_settings({"pii_enabled_types": ["secrets"]})
    out = wb.pii.redact_for_egress(None, line)
    assert "10.0.0.7" in out.text and sendgrid not in out.text and do not in out.text
    assert {"SendGridKey", "DigitalOceanToken"} <= set(out.types)

    panel = SettingsPanel(wb)
    panel.select_tab("PII")
    boxes = {cb.description: cb for cb in panel._w_pii_types.children}
    assert len(boxes) == len(PII_TYPES)
    assert boxes["CloudKey"].value and boxes["SaaSToken"].value and boxes["PasswordHash"].value
    assert not boxes["IPv4"].value and not boxes["Email"].value
    assert wb.pii.enabled_types() == [t for t in PII_TYPES if boxes[t].value]
    boxes["SaaSToken"].value = False
    panel._w_save_types.click()
    stored = wb.settings.get("pii_enabled_types")
    assert "SaaSToken" not in stored and "CloudKey" in stored and "IPv4" not in stored
    out = wb.pii.redact_for_egress(None, line)
    assert do not in out.text and "SendGridKey" not in out.types


def test_rule_patterns_do_not_depend_on_hash_seed():
    """The compiled database is cached on disk under a key made of the patterns: a pattern built
    from a set in hash order would change from process to process and recompile (0.5 s) every
    start."""
    import os
    import subprocess
    import sys

    code = ("import zlib; from tftsr_kernel.pii.rules import RULES; "
            "print(zlib.crc32(repr([(r.pattern, r.flags) for r in RULES]).encode()))")
    root = str(Path(__file__).resolve().parents[1])
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True,
                           env=dict(os.environ, PYTHONPATH=root, PYTHONHASHSEED=seed)).stdout
            for seed in ("1", "2", "3")}
    assert len(outs) == 1, outs


WRAPPERS = ['"k": "{S}"', "<value>{S}</value>", "k='{S}'", "GET /x?k={S}&y=1", "call({S})", "{S},next", "k={S};",
            "`{S}`", '\\"k\\": \\"{S}\\"', "k: {S}\n", "[{S}]", '{{"a":"{S}"}}']


@pytest.mark.parametrize("wrapper", WRAPPERS)
def test_self_identifying_values_in_any_wrapper(wrapper):
    """A fixture value that is found on its own (a shaped token) is covered whole whatever
    quotes, brackets, separators or escapes surround it."""
    checked = 0
    for row in ROWS:
        for value in row["secrets"]:
            if "\n" in value:
                continue
            alone = pii.detect(value)
            if not alone or (alone[0].start, alone[0].end) != (0, len(value)):
                continue
            checked += 1
            text = wrapper.replace("{S}", value)
            assert _covering(pii.detect(text), text, value), f"{row['id']} in {wrapper!r}"
    assert checked >= 150


KEY_SYNTAXES = ["{K}={S}", 'export {K}="{S}"', '"{k}": "{S}"', "{k}: {S}", "{k}: '{S}'", "<{K}>{S}</{K}>",
                '<add key="{K}" value="{S}" />', 'System.setProperty("{K}", "{S}")', "{K} := {S}", "{K} ?= {S}",
                "{k} => '{S}'", "--{kd}={S}", "--{kd} {S}", "{K}: {S}\r", '{{"env": [{{"name": "{K}", "value": "{S}"}}]}}',
                "X-{kd}: {S}"]


@pytest.mark.parametrize("syntax", KEY_SYNTAXES)
def test_keyed_values_in_every_syntax(syntax):
    """A fixture value found by its key (``KEY=value`` rows) is covered whole with that key in
    every common assignment syntax: env, shell, JSON, YAML, XML element and key/value attribute,
    call argument, make, Perl/Ruby, CLI flags, HTTP header, Kubernetes env lists."""
    import re

    checked = 0
    for row in ROWS:
        text = row["text"]
        for value in row["secrets"]:
            alone = pii.detect(value)
            if "\n" in value or (alone and (alone[0].start, alone[0].end) == (0, len(value))):
                continue  # shaped tokens: test_self_identifying_values_in_any_wrapper
            m = re.search(r"(?:^|[\s:])([A-Z][A-Z0-9_]{3,})=$", text[: text.find(value)])
            if not m:
                continue
            key = m.group(1)
            checked += 1
            line = syntax.format(K=key, k=key.lower(), kd=key.lower().replace("_", "-"), S=value)
            assert _covering(pii.detect(line), line, value), f"{row['id']}: {line[:120]!r}"
    assert checked >= 60


def test_tftsr_pii_scan_takes_groups(tmp_path):
    """``tftsr pii scan FILE --types secrets`` (the CLI a user runs) and a typo's message."""
    import os
    import subprocess
    import sys

    log = tmp_path / "app.log"
    key = "dop_v1_" + "7f3a9c01b2e4d5f6" * 4
    log.write_text(f"doctl: DIGITALOCEAN_ACCESS_TOKEN={key} from 10.0.0.7\n")
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    out = subprocess.run([sys.executable, "-m", "tftsr_kernel.cli", "--json", "pii", "scan", str(log), "--types", "secrets"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    spans = json.loads(out.stdout)["spans"]
    assert [(s["type"], s["text"]) for s in spans] == [("DigitalOceanToken", key)]
    out = subprocess.run([sys.executable, "-m", "tftsr_kernel.cli", "pii", "scan", str(log), "--types", "secretz"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode != 0 and "secretz" in out.stderr and "groups: network" in out.stderr
