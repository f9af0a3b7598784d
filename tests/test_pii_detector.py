"""Tests of the PII detector (tftsr_kernel.pii)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from tftsr_kernel import pii
from tftsr_kernel.errors import PiiError, ValidationError
from tftsr_kernel.pii import DetectorConfig, Pseudonymizer, Span

FIXTURES = Path(__file__).parent / "fixtures" / "pii"
LOGHUB = Path("/work/shared/corpus/loghub")
IPV4_GREP = re.compile(r"([0-9]{1,3}\.){3}[0-9]{1,3}")


def _redact(text: str, config: DetectorConfig | None = None) -> str:
    return pii.redact(text, pii.detect(text, config), Pseudonymizer().placeholder)


def _loghub_logs() -> list[Path]:
    return sorted(LOGHUB.glob("*/*_2k.log"))


needs_loghub = pytest.mark.skipif(not _loghub_logs(), reason="loghub corpus not present")


# --- the fixture of secrets ---------------------------------------------------------------------
def test_every_fixture_secret_is_redacted():
    text = (FIXTURES / "secrets.txt").read_text()
    secrets = json.loads((FIXTURES / "secrets.expected.json").read_text())
    out = _redact(text)
    leaked = [s for s in secrets if s in out]
    assert not leaked, f"leaked: {leaked}"
    # the key names stay, so the log still reads
    for key in ("password=", "DB_PASSWORD=", '"client_secret": "', "token: ", "Authorization: Bearer "):
        assert key in out


def test_fixture_types():
    text = (FIXTURES / "secrets.txt").read_text()
    found = {s.type for s in pii.detect(text)}
    # the toggles of the service-specific families are covered by tests/test_secret_families.py
    from tftsr_kernel.pii._types import FAMILY_TOGGLES

    expected = set(pii.PII_TYPES) - {"Custom", "PasswordHash"} - (set(FAMILY_TOGGLES) - {"PrivateKey"})
    assert expected <= found, f"types never reported: {sorted(expected - found)}"


NEGATIVES = [
    "1.2.3.4.5",
    "v10.0.19041.1",
    "10.0.19041",
    "Microsoft Windows [Version 10.0.19041.1415]",
    "wcp.dll version 0.0.0.6",
    "123e4567-e89b-12d3-a456-426614174000",
    "d41d8cd98f00b204e9800998ecf8427e",
    "da39a3ee5e6b4b0d3255bfef95601890afd80709",
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "commit a94a8fe5ccb19ba61c4c0873d391e987982fbbd3",
    "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8",
    "MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48",
    "request_id=1234567890",
    "blk_-1608999687919862906",
    "blk_38865049064139660",
    "took 1234ms",
    "elapsed=PT15M30S",
    "2024-01-15T10:30:00.123Z",
    "2015-10-18 18:01:47,978",
    "081109 203615 148 INFO",
    "nginx-deployment-66b6c48dd5-4jw2p",
    "kube-proxy-8xk2z",
    "nginx.conf",
    "app.log",
    "core-site.xml",
    "workers2.properties",
    "chrome.exe",
    "libssl.so.1.1",
    "main.rs:42",
    "setup.py",
    "README.md",
    "org.springframework.boot.SpringApplication",
    "org.springframework.boot.X",
    "java.lang.NullPointerException",
    "com.example.service.UserService",
    "org.apache.hadoop.mapreduce.v2.app.MRAppMaster",
    "android.os.BinderProxy@2bd79ce",
    "Failed password for invalid user admin from",
    "password policy updated",
    "check pass; user unknown",
    "bypass: enabled",
    "token_type: Bearer",
    "max_tokens: 4096",
    "password: ${DB_PASSWORD}",
    "password=******",
    "PWD=/home/ops",
    "std::vector<int>",
    "IOThunderboltSwitch<0>(0x0)::listenerCallback",
    "0:0:0:0:0:0:0:0:2181",
    "build 2.6.5-1.358",
    "size 67108864",
    "timestamp 1445144423722",
    "appattempt_1445144423722_0020_000001",
    "IO80211AWDLPeerManager",
    "akka.tcp://sparkExecutorActorSystem@mesos-slave-07:5590",
    "could not get event name for stream/token: com.apple.xpc.activity/4505: 132",
    "Package_for_KB2620704~31bf3856ad364e35~amd64~~6.1.1.0",
    "NIOServerCxn.Factory:0.0.0.0/0.0.0.0:2181",
    "kernel-2.6.18.8 loaded",
]


@pytest.mark.parametrize("text", NEGATIVES)
def test_machine_text_is_not_flagged(text):
    assert pii.detect(text) == []
    assert _redact(text) == text


# --- network ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "addr",
    [
        "::1",
        "fe80::1ff:fe23:4567:890a",
        "::ffff:10.0.0.1",
        "2001:db8::8a2e:370:7334",
        "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
        "2001:db8::",
        "fe80::1%eth0",
        "FE80:0000:0000:0000:D8A5:90FF:FEF5:7FFF",
        "1::",
        "::2:3:4:5:6:7:8",
    ],
)
def test_ipv6_forms_fully_covered(addr):
    text = f"peer [{addr}]:443 and from {addr} ok"
    spans = [s for s in pii.detect(text) if s.type == "IPv6"]
    assert [s.text for s in spans] == [addr, addr]


@pytest.mark.parametrize(
    "text, spans",
    [
        ("10.0.0.1", [(0, 8)]),
        ("(10.0.0.1)", [(1, 9)]),
        ("~10.0.0.1", [(1, 9)]),  # no context before the text: the package-version check is skipped
        (".10.0.0.1", [(1, 9)]),
        ("a~10.0.0.1", []),
        ("x.10.0.0.1", []),
        ("version 1.2.3.4", []),
        ("at 1.2.3.4", [(3, 10)]),
        ("ip 1.2.3.4.", [(3, 10)]),
        ("1.2.3.4.5", []),
        ("1234.5.6.7.8 x", []),
        ("1.2.3.999", []),
        ("x" * 30 + " 10.0.0.1 y", [(31, 39)]),
        ("ver 10.0.0.1 and 10.0.0.2", [(17, 25)]),
        ("0.0.0.0 255.255.255.255 8.8.8.8", [(24, 31)]),
        ("a 1.2.3.4 b\n" * 3, [(2, 9), (14, 21), (26, 33)]),
    ],
)
def test_ipv4_edges(text, spans):
    """The IPv4 anchor reports end offsets only; the handler finds the start and caches its
    verdict by the text around the end, also near the text's start and end."""
    assert [(s.start, s.end) for s in pii.detect(text) if s.type == "IPv4"] == spans


def test_url_credentials_fully_covered():
    text = "connect postgres://app:s3cret@db.internal.corp:5432/orders failed"
    out = _redact(text)
    assert "app" not in out.replace("[", " ") or "app:" not in out
    assert "s3cret" not in out and "app:s3cret" not in out
    spans = pii.detect(text)
    assert ("URLCredentials", "app:s3cret") in {(s.type, s.text) for s in spans}
    assert ("Hostname", "db.internal.corp") in {(s.type, s.text) for s in spans}
    assert out == "connect postgres://[URLCredentials_1]@[Hostname_1]:5432/orders failed"


def test_hostnames_and_ipv4():
    text = "rhost=5.36.59.76.dynamic-dsl-ip.omantel.net.om via proxy.cse.cuhk.edu.hk:5070 from 10.0.0.1"
    got = {(s.type, s.text) for s in pii.detect(text)}
    assert ("Hostname", "proxy.cse.cuhk.edu.hk") in got
    assert ("IPv4", "10.0.0.1") in got
    assert "5.36.59.76" not in _redact(text)


def test_non_ascii_names_fully_covered():
    got = {(s.type, s.text) for s in pii.detect("mail jörg.müller@example.de via café.example.com")}
    assert got == {("Email", "jörg.müller@example.de"), ("Hostname", "café.example.com")}


def test_phone_ssn_card_iban():
    text = (
        "call +44 20 7946 0958 / +49 30 123456 / (555) 123-4567 / 415-555-0100x12; "
        "ssn 219-09-9999; cards 4111111111111111, 4111-1111-1111-1111, 4111 1111 1111 1112; "
        "iban DE89 3704 0044 0532 0130 00, GB82WEST12345698765433"
    )
    got = {(s.type, s.text) for s in pii.detect(text)}
    assert ("Phone", "+44 20 7946 0958") in got
    assert ("Phone", "+49 30 123456") in got
    assert ("Phone", "(555) 123-4567") in got
    assert ("Phone", "415-555-0100x12") in got
    assert ("SSN", "219-09-9999") in got
    assert ("CreditCard", "4111111111111111") in got
    assert ("CreditCard", "4111-1111-1111-1111") in got
    assert ("CreditCard", "4111 1111 1111 1112") not in got  # fails Luhn
    assert ("IBAN", "DE89 3704 0044 0532 0130 00") in got
    assert ("IBAN", "GB82WEST12345698765433") not in got  # fails mod-97


def test_overlaps_merge_into_one_covering_span():
    text = "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlc2lnbmF0dXJl"
    spans = pii.detect(text)
    assert len(spans) == 1 and spans[0].type == "JWT"
    assert spans[0].text.startswith("eyJ") and spans[0].end == len(text)
    # a secret value that is itself a known token format takes the specific type
    (sp,) = pii.detect("password=ghp_" + "a1B2" * 9)
    assert sp.type == "GitHubToken"


def test_detect_sorted_non_overlapping():
    text = (FIXTURES / "secrets.txt").read_text()
    spans = pii.detect(text)
    for a, b in zip(spans, spans[1:]):
        assert a.end <= b.start
    for s in spans:
        assert text[s.start : s.end] == s.text


# --- configuration ------------------------------------------------------------------------------
def test_custom_pattern_and_allowlist():
    text = "ticket INC-123456 from 10.1.2.3 and 10.9.9.9, user bob@example.com"
    cfg = DetectorConfig(custom_patterns=(("Ticket", r"INC-\d{6}"),), allowlist=("10.9.9.9",))
    got = {(s.type, s.text) for s in pii.detect(text, cfg)}
    assert ("Ticket", "INC-123456") in got
    assert ("IPv4", "10.1.2.3") in got
    assert all(t != "10.9.9.9" for _ty, t in got)
    out = _redact(text, cfg)
    assert "10.9.9.9" in out and "INC-123456" not in out and "[Ticket_1]" in out
    # unnamed pattern: type "Custom"
    cfg2 = DetectorConfig(custom_patterns=(("", r"[A-Z]+-\d+"),))
    assert ("Custom", "INC-123456") in {(s.type, s.text) for s in pii.detect(text, cfg2)}


@pytest.mark.parametrize(
    "pattern, why",
    [
        (r"(?<=ticket )[A-Z]+-\d+", "look-behind"),
        (r"[A-Z]+(?=-\d)", "look-ahead"),
        (r"(?!x)[a-z]+", "negative look-ahead"),
        (r"(\w)\1", "back-reference"),
        (r"(?P<q>['\"]).*(?P=q)", "back-reference"),
        (r"a*", "empty string"),
        (r"(unclosed", "not a valid regular expression"),
    ],
)
def test_custom_patterns_hyperscan_cannot_run_are_refused(pattern, why):
    with pytest.raises(ValidationError, match=why):
        pii.detect("ticket INC-1", DetectorConfig(custom_patterns=(("Bad", pattern),)))


def test_custom_pattern_cannot_hang_the_scanner():
    """``(a+|é)+$`` backtracks exponentially in Python ``re`` (48 s on 29 bytes); in hyperscan
    it is linear: a 100 kB line of ``a`` followed by ``é!`` is scanned at once."""
    import time

    cfg = DetectorConfig(custom_patterns=(("Evil", "(a+|é)+$"),))
    text = "a" * 28 + "é!\n" + "a" * 100_000 + "é!\n" + "aaé\n"
    t = time.perf_counter()
    spans = pii.detect(text, cfg)
    assert time.perf_counter() - t < 5  # generous: a backtracking engine would not finish
    assert [(s.type, s.text) for s in spans] == [("Evil", "aaé")]


def test_custom_pattern_spans_in_non_ascii_text():
    cfg = DetectorConfig(custom_patterns=(("Name", "Müller|Zoë"), ("Tck", r"TCK-\d{6}")))
    text = "Grüße von Jörg Müller, TCK-123456 \udcff und Zoë\n"
    got = [(s.type, s.text, s.start) for s in pii.detect(text, cfg)]
    assert got == [
        ("Name", "Müller", text.index("Müller")),
        ("Tck", "TCK-123456", text.index("TCK")),
        ("Name", "Zoë", text.index("Zoë")),
    ]
    # matches of one pattern that overlap become one span (the union)
    cfg2 = DetectorConfig(custom_patterns=(("Num", r"\d+"),))
    assert [s.text for s in pii.detect("id 12345 x", cfg2)] == ["12345"]


def test_enabled_types():
    text = "from 10.1.2.3 user bob@example.com password=hunter22"
    got = {s.type for s in pii.detect(text, DetectorConfig(enabled_types=frozenset({"Email"})))}
    assert got == {"Email"}


def test_bad_custom_pattern_is_a_validation_error():
    with pytest.raises(ValidationError):
        pii.detect("x", DetectorConfig(custom_patterns=(("Bad", "(unclosed"),)))


# --- redaction, pseudonyms, restore -------------------------------------------------------------
def test_redact_without_spans_returns_text_exactly():
    text = (FIXTURES / "secrets.txt").read_text() + "\udcff tail \u00e9"
    assert pii.redact(text, [], lambda s: "X") == text


def test_pseudonymizer_consistency_and_restore():
    text = "a 10.0.0.1 b 10.0.0.2 c 10.0.0.1 d bob@example.com"
    ps = Pseudonymizer({("IPv4", "10.0.0.9"): "[IPv4_1]"})
    out = pii.redact(text, pii.detect(text), ps.placeholder)
    assert out == "a [IPv4_2] b [IPv4_3] c [IPv4_2] d [Email_1]"
    assert ps.new_entries == [
        ("IPv4", "10.0.0.1", "[IPv4_2]"),
        ("IPv4", "10.0.0.2", "[IPv4_3]"),
        ("Email", "bob@example.com", "[Email_1]"),
    ]
    assert ps.placeholder(Span("IPv4", 0, 8, "10.0.0.1")) == "[IPv4_2]"
    assert len(ps.new_entries) == 3
    answer = "Block [IPv4_2] and mail [Email_1]; ignore [IPv4_7]."
    assert pii.restore(answer, ps.reverse()) == "Block 10.0.0.1 and mail bob@example.com; ignore [IPv4_7]."
    assert pii.restore(out, ps.reverse()) == text


def test_redact_rejects_out_of_range_span():
    with pytest.raises(PiiError):
        pii.redact("abc", [Span("IPv4", 1, 9, "x")], lambda s: "X")


# --- decoding and files -------------------------------------------------------------------------
def test_decode_bytes_lossless_on_odd_input():
    data = b"\xef\xbb\xbfok \xff\xfe broken \xc3\x28 \xe2\x82 end\n"
    text = pii.decode_bytes(data)
    assert text.encode("utf-8", "surrogateescape") == data
    assert text.startswith("\ufeff")


@needs_loghub
def test_decode_bytes_lossless_on_loghub():
    for p in _loghub_logs():
        data = p.read_bytes()
        assert pii.decode_bytes(data).encode("utf-8", "surrogateescape") == data, p.name


@needs_loghub
@pytest.mark.parametrize("name", ["OpenSSH", "Linux"])
def test_loghub_ipv4_absent_after_redaction(name, tmp_path):
    (path,) = sorted((LOGHUB / name).glob("*_2k.log"))
    data = path.read_bytes()
    text = data.decode("utf-8", "surrogateescape")
    ips = {m.group() for m in IPV4_GREP.finditer(text) if all(int(o) <= 255 for o in m.group().split("."))}
    assert ips
    out = _redact(text)
    assert not [ip for ip in ips if ip in out]
    buf = io.BytesIO()
    pii.redact_file(path, buf)
    red = buf.getvalue().decode("utf-8", "surrogateescape")
    assert red == out
    assert not [ip for ip in ips if ip in red]


def _write(tmp_path, text: str, name="f.log") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode("utf-8", "surrogateescape"))
    return p


def test_chunk_boundaries_small_chunks(tmp_path):
    key = "AKIA" + "Q7WZ3MSJV4HXT2PL"
    pem = "-----BEGIN PRIVATE KEY-----\n" + "\n".join(["MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" * 2] * 6) + "\n-----END PRIVATE KEY-----"
    filler = "x" * 90
    text = (
        f"{filler}\nline with key {key} and ip 192.168.77.12 here\n{filler} {filler}\n"
        f"{pem}\npassword=Sup3r-Secret-Value {filler}\u00e9\u00e9 host db-7.prod.example.com\n"
    )
    path = _write(tmp_path, text)
    whole = pii.detect(text)
    for chunk in (7, 31, 50, 64, 97, 128, 4096):
        got = list(pii.scan_file(path, chunk_size=chunk, margin=60))
        assert got == whole, chunk
        buf = io.BytesIO()
        pii.redact_file(path, buf, chunk_size=chunk, margin=60)
        red = buf.getvalue().decode("utf-8", "surrogateescape")
        assert red == pii.redact(text, whole, Pseudonymizer().placeholder), chunk
        for secret in (key, "192.168.77.12", "Sup3r-Secret-Value", "MIIEvQIBADANBgkq", "db-7.prod.example.com"):
            assert secret not in red, (chunk, secret)


def test_secret_straddling_chunk_without_newlines(tmp_path):
    token = "ghp_" + "Zx9" * 12
    text = "y" * 100 + " " + token + " " + "z" * 100
    path = _write(tmp_path, text)
    for chunk in (95, 103, 110, 120, 140):
        spans = list(pii.scan_file(path, chunk_size=chunk, margin=64))
        assert [(s.type, s.text) for s in spans] == [("GitHubToken", token)], chunk


def test_scan_file_progress_and_stats(tmp_path):
    text = "a 10.0.0.1 b\n" * 500
    path = _write(tmp_path, text)
    seen = []
    buf = io.BytesIO()
    stats = pii.redact_file(path, buf, progress=lambda done, total: seen.append((done, total)), chunk_size=1000)
    assert stats.bytes_in == len(text) and stats.spans == 500 and stats.by_type == {"IPv4": 500}
    assert seen[-1] == (len(text), len(text))
    assert buf.getvalue() == ("a [IPv4_1] b\n" * 500).encode()


def test_redact_file_keeps_bytes_and_non_utf8(tmp_path):
    raw = b"x\xff\xfe garbage \xc3\x28 ip 10.0.0.1 \xe9t\xe9\r\nnext line\r\n"
    p = tmp_path / "bin.log"
    p.write_bytes(raw)
    buf = io.BytesIO()
    pii.redact_file(p, buf)
    assert buf.getvalue() == raw.replace(b"10.0.0.1", b"[IPv4_1]")
    assert [s.text for s in pii.scan_file(p)] == ["10.0.0.1"]


def test_utf16_file(tmp_path):
    text = "\ufeffuser bob@example.com from 10.0.0.1\r\n"
    p = tmp_path / "u16.log"
    p.write_bytes(text.encode("utf-16-le"))
    assert pii.decode_bytes(p.read_bytes()) == text
    spans = list(pii.scan_file(p))
    assert [(s.type, s.text) for s in spans] == [("Email", "bob@example.com"), ("IPv4", "10.0.0.1")]
    assert spans == pii.detect(text)
    buf = io.BytesIO()
    pii.redact_file(p, buf)
    assert buf.getvalue().decode("utf-16-le") == "\ufeffuser [Email_1] from [IPv4_1]\r\n"


def test_utf16_small_chunks(tmp_path):
    pem = "-----BEGIN EC PRIVATE KEY-----\n" + "\n".join(["MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5FZS4O6Kl2SNu"] * 4)
    text = "\ufeff" + "pad " * 30 + "\nip 10.20.30.40 mail a.b@example.org\n" + pem + "\n-----END EC PRIVATE KEY-----\nend\n"
    p = tmp_path / "u16.log"
    p.write_bytes(text.encode("utf-16-le"))
    whole = pii.detect(text)
    assert {s.type for s in whole} == {"IPv4", "Email", "PrivateKey"}
    for chunk in (40, 77, 150):
        assert list(pii.scan_file(p, chunk_size=chunk, margin=50)) == whole, chunk
        buf = io.BytesIO()
        pii.redact_file(p, buf, chunk_size=chunk, margin=50)
        assert buf.getvalue().decode("utf-16-le") == pii.redact(text, whole, Pseudonymizer().placeholder)


def test_parallel_workers_identical(tmp_path):
    text = (FIXTURES / "secrets.txt").read_text() * 40
    path = _write(tmp_path, text)
    one, two = io.BytesIO(), io.BytesIO()
    pii.redact_file(path, one, chunk_size=3000, workers=1)
    pii.redact_file(path, two, chunk_size=3000, workers=2)
    assert one.getvalue() == two.getvalue()
    assert list(pii.scan_file(path, chunk_size=3000, workers=2)) == pii.detect(text)


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="the scan helper needs fork")
def test_scan_helper_killed_midway_changes_nothing(tmp_path):
    """If the helper process dies, the remaining chunks are scanned in this process: the
    output is the same and no child process is left behind."""
    import os
    import signal

    from tftsr_kernel.pii import _io

    text = (FIXTURES / "secrets.txt").read_text() * 40
    path = _write(tmp_path, text)
    expected = io.BytesIO()
    pii.redact_file(path, expected, chunk_size=3000, workers=1)
    size = path.stat().st_size
    with open(path, "rb") as f:
        gen = _io._chunk_results(path, f, size, None, 3000, _io.MARGIN, 2)
        first = next(gen)
        helper = gen.gi_frame.f_locals["helper"]
        assert helper is not None and helper.pid > 0
        pid = helper.pid
        os.kill(pid, signal.SIGKILL)
        rest = list(gen)
    assert len(rest) > 5
    with open(path, "rb") as f:
        again = list(_io._chunk_results(path, f, size, None, 3000, _io.MARGIN, 1))
    assert [first] + rest == again
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaped, not a zombie


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="the scan helper needs fork")
def test_scan_helper_works_from_the_end_and_its_hits_are_used(tmp_path):
    """The helper scans from the last chunk backwards; when this process is slow, the chunks
    it reaches later come from the helper, and the output is that of one process."""
    import time

    from tftsr_kernel.pii import _io

    text = (FIXTURES / "secrets.txt").read_text() * 40
    path = _write(tmp_path, text)
    size = path.stat().st_size
    with open(path, "rb") as f:
        gen = _io._chunk_results(path, f, size, None, 3000, _io.MARGIN, 2)
        first = next(gen)
        helper = gen.gi_frame.f_locals["helper"]
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # let the helper get ahead
            helper._drain()
            if len(helper._ready) >= 3:
                break
            time.sleep(0.05)
        assert max(helper._ready) == gen.gi_frame.f_locals["cuts"].__len__() - 1  # the last chunk first
        rest = list(gen)
        assert helper.delivered >= 3
    with open(path, "rb") as f:
        again = list(_io._chunk_results(path, f, size, None, 3000, _io.MARGIN, 1))
    assert [first] + rest == again


def test_auto_workers(tmp_path):
    small = _write(tmp_path, "x 10.0.0.1\n" * 1000)
    big = tmp_path / "big.log"
    with open(big, "wb") as fh:
        fh.truncate(9 << 20)
    assert pii.auto_workers(small) == 1
    assert pii.auto_workers(tmp_path / "missing.log") == 1
    ncpu = len(__import__("os").sched_getaffinity(0))
    assert pii.auto_workers(big) == (2 if ncpu >= 2 else 1)   # busy or not: the pair finishes sooner


def test_missing_file_is_pii_error(tmp_path):
    with pytest.raises(PiiError):
        list(pii.scan_file(tmp_path / "nope.log"))


def test_cli_main_writes_redacted_stdout(tmp_path, capsysbinary):
    from tftsr_kernel.pii.__main__ import main

    path = _write(tmp_path, "from 10.0.0.1 to 10.0.0.1\n")
    assert main([str(path)]) == 0
    assert capsysbinary.readouterr().out == b"from [IPv4_1] to [IPv4_1]\n"
    assert main([str(path), "--mode", "type"]) == 0
    assert capsysbinary.readouterr().out == b"from [IPv4] to [IPv4]\n"


# --- whole values, allow-list, property names (issue 10) ----------------------------------------
@pytest.mark.parametrize(
    "text, value",
    [
        ("password=Tr0ub4dor&3xQ", "Tr0ub4dor&3xQ"),
        ("--password=abc;99", "abc;99"),
        ("postgres://dbadmin:Pg&P#ss;w0rd@db.internal.corp:5432/prod", "dbadmin:Pg&P#ss;w0rd"),
        ("secret='a b \\' c'", "a b \\' c"),
        ('token="x\\\\"', "x\\\\"),  # an escaped backslash, then the closing quote
        ("api_key=abc, next", "abc"),
        ("Password=x1;Encrypt=True", "x1"),
        ("?token=t0k3n&x=1", "t0k3n"),
        ("pwd=p@ss(1)x", "p@ss(1)x"),
        ("{password=br4ce}", "br4ce"),
    ],
)
def test_value_ends_by_syntax(text, value):
    secrets = [s for s in pii.detect(text) if s.type != "Hostname"]
    assert [s.text for s in secrets] == [value]


def test_issue_examples_redact_to_the_end():
    assert _redact("password=Tr0ub4dor&3xQ") == "password=[Password_1]"
    assert _redact("postgres://dbadmin:Pg&P#ss;w0rd@db.internal.corp:5432/prod") == (
        "postgres://[URLCredentials_1]@[Hostname_1]:5432/prod"
    )
    assert _redact("--password=abc;99") == "--password=[Password_1]"


def test_allowlisted_value_is_never_redacted_in_part():
    text = "mail status@example.org and ops@example.org, host example.org, 10.0.0.1 and 10.0.0.10"
    cfg = DetectorConfig(allowlist=("status@example.org", "10.0.0.1"))
    out = _redact(text, cfg)
    assert "status@example.org" in out  # not "status@[Hostname_1]"
    assert "ops@example.org" not in out and "[Hostname_1]" in out  # the bare host is still found
    assert "10.0.0.1 and" in out and "10.0.0.10" not in out  # a longer value is another value
    # a finding that crosses into an allowed value keeps only its part outside it
    cfg2 = DetectorConfig(allowlist=("example.org",))
    assert pii.detect("see example.org", cfg2) == []


@pytest.mark.parametrize(
    "text",
    [
        "java.home=/usr/lib/jvm os.name=Linux user.name=spark",
        "mapred.task.id is deprecated. Instead, use mapreduce.task.attempt.id",
        "spark.executor.memory=4g spark.app.id=app-1 -Dspark.driver.host=x",
        "log4j.appender.console.layout=org.apache.log4j.PatternLayout",
        "db.host=primary cache.name=sessions",
    ],
)
def test_dotted_property_names_are_not_hosts(text):
    assert [s for s in pii.detect(text) if s.type == "Hostname"] == []


def test_real_hosts_in_key_position_stay_hosts():
    got = {s.text for s in pii.detect("api.example.com=up db.internal: down -Dx=1 cdn.example.io:443")}
    assert {"api.example.com", "db.internal", "cdn.example.io"} <= got


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="the scan helper needs fork")
def test_scan_helper_does_whole_chunks_of_non_ascii_text_as_this_process_would(tmp_path):
    """The helper does chunks whole (scan, handlers, merge and cut), here of a window that is not
    ASCII (multi-byte characters around the findings and across chunk edges): each chunk it
    delivers is exactly what this process would have made, and the file's output too."""
    import time

    from tftsr_kernel.pii import _io

    text = ("café ☕ user=renée.müller@example.org from 10.20.30.40 — token ghp_"
            "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8 ✓\n" + (FIXTURES / "secrets.txt").read_text()) * 30
    path = _write(tmp_path, text)
    size = path.stat().st_size
    with open(path, "rb") as f:
        gen = _io._chunk_results(path, f, size, None, 3000, _io.MARGIN, 2, fn=_io._redact_range)
        first = next(gen)
        helper = gen.gi_frame.f_locals["helper"]
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(helper._ready) < 3:
            helper._drain()
            time.sleep(0.05)
        rest = list(gen)
        assert helper.delivered >= 3
    with open(path, "rb") as f:
        again = list(_io._chunk_results(path, f, size, None, 3000, _io.MARGIN, 1, fn=_io._redact_range))
    assert [first] + rest == again
    one, two = io.BytesIO(), io.BytesIO()
    pii.redact_file(path, one, chunk_size=3000, workers=1)
    pii.redact_file(path, two, chunk_size=3000, workers=2)
    assert one.getvalue() == two.getvalue() and "renée.müller@example.org" not in two.getvalue().decode()
