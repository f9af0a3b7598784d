"""Log templates: timestamps, Drain mining, bursts, the stored result and ``tftsr log templates``."""

from __future__ import annotations

import calendar
import csv
import sys
from pathlib import Path

import pytest

from tftsr_kernel.logs import mine_lines
from tftsr_kernel.logs.timestamps import TimestampParser

from .conftest import LOGHUB


def _utc(*parts) -> int:
    return calendar.timegm(tuple(parts) + (0, 0, 0))


@pytest.mark.parametrize("line, expected, fmt", [
    ("2015-10-18 18:01:47,978 INFO [main] x: y", _utc(2015, 10, 18, 18, 1, 47) + 0.978, "iso8601"),
    ("2023-03-01T10:00:00+02:00 host app: started", _utc(2023, 3, 1, 8, 0, 0), "iso8601"),
    ("2023-03-01T10:00:00.5Z up", _utc(2023, 3, 1, 10, 0, 0) + 0.5, "iso8601"),
    ("Jun 14 15:16:01 combo sshd(pam_unix)[19939]: check pass", _utc(2021, 6, 14, 15, 16, 1), "syslog"),
    ("[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok", _utc(2005, 12, 4, 4, 47, 44), "apache_error"),
    ('127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200', _utc(2000, 10, 10, 20, 55, 36),
     "apache_access"),
    ("9/28/2016 4:30:30 PM Information Service started", _utc(2016, 9, 28, 16, 30, 30), "windows"),
    ("1117838570 node-1 RAS KERNEL INFO x", 1117838570, "epoch"),
    ("1700000000123 job done", 1700000000.123, "epoch"),
    ("081109 203615 148 INFO dfs.DataNode: x", _utc(2008, 11, 9, 20, 36, 15), "yymmdd_hhmmss"),
    ("17/06/09 20:10:40 INFO spark.SecurityManager: x", _utc(2017, 6, 9, 20, 10, 40), "yy_slash"),
    ("20171223-22:15:29:606|Step_LSC|30002312|x", _utc(2017, 12, 23, 22, 15, 29) + 0.606, "compact_datetime"),
    ("03-17 16:13:38.811  1702  2395 D WindowManager: x", _utc(2021, 3, 17, 16, 13, 38) + 0.811, "month_day"),
    ("- 1117838570 2005.06.03 R02 2005-06-03-15.42.50.675872 R02 RAS", None, None),
])
def test_timestamp_formats(line, expected, fmt):
    p = TimestampParser.detect([line], 2021)
    if fmt is None:  # BGL: both an epoch and a dotted date; either gives the same second
        t, _span = p.parse(line)
        assert int(t) in (1117838570, _utc(2005, 6, 3, 15, 42, 50))
        return
    assert p.name == fmt
    t, (a, b) = p.parse(line)
    assert t == pytest.approx(expected, abs=1e-3)
    assert a < b <= len(line)


def test_no_timestamp_and_bad_dates():
    p = TimestampParser.detect(["just words", "more words"], 2021)
    assert p.name is None and p.parse("just words") is None
    # 2021-02-30 is not a date: not detected as a timestamp
    assert TimestampParser.detect(["2021-02-30 10:00:00 x"] * 3, 2021).name is None


def _lines():
    out = []
    for i in range(300):  # ten minutes of steady traffic, 30 a minute
        out.append(f"2024-05-01 10:{i // 30:02d}:{i % 30 * 2:02d} INFO web: GET /api/items/{i} 200 in {i % 7}ms")
    for i in range(60):  # at 10:10 a burst of timeouts, a template never seen before
        out.append(f"2024-05-01 10:10:{i:02d} ERROR db: connection to 10.0.0.{i % 5}:5432 timed out after 30s")
    out.append("    at com.example.Pool.get(Pool.java:42)")  # continuation line, no timestamp
    return out


def test_mining_groups_counts_and_line_templates():
    ts = mine_lines(_lines(), year=2024)
    assert ts.timestamp_format == "iso8601" and ts.lines == 361
    by_text = {t.template: t for t in ts.templates}
    get = next(t for t in ts.templates if "GET" in t.template)
    err = next(t for t in ts.templates if "timed out" in t.template)
    assert get.count == 300 and err.count == 60 and len(ts.templates) == 3, by_text
    assert "<*>" in get.template and "2024" not in get.template  # timestamp cut out, variables masked
    assert get.first_seen == "2024-05-01 10:00:00" and get.last_seen == "2024-05-01 10:09:58"
    assert err.first_seen == "2024-05-01 10:10:00" and err.last_seen == "2024-05-01 10:10:59"
    assert ts.line_templates.tolist() == [get.id] * 300 + [err.id] * 60 + [ts.line_templates[-1]]
    assert sum(get.minute_counts.values()) == 300 and len(get.minute_counts) == 10
    # the continuation line counts in the minute of the line before it
    cont = ts.templates[ts.line_templates[-1] - 1]
    assert cont.first_seen == "2024-05-01 10:10:59"


def test_bursts_rate_jump_and_new_template():
    lines = _lines()
    # the steady template also jumps: 200 lines in minute 10:11 (about 27 a minute before, with the
    # quiet minute 10:10 counted)
    lines += [f"2024-05-01 10:11:{i % 60:02d} INFO web: GET /api/items/{i} 200 in 3ms" for i in range(200)]
    ts = mine_lines(lines, year=2024)
    get = next(t for t in ts.templates if "GET" in t.template)
    err = next(t for t in ts.templates if "timed out" in t.template)
    kinds = {(b.template_id, b.kind) for b in ts.bursts}
    assert (err.id, "new_template") in kinds
    jump = next(b for b in ts.bursts if b.template_id == get.id and b.kind == "rate_jump")
    assert jump.at == "2024-05-01 10:11:00" and jump.count == 200 and jump.baseline == pytest.approx(300 / 11, abs=0.1)
    # steady traffic alone is no burst
    steady = mine_lines(_lines()[:300], year=2024)
    assert steady.bursts == []


@pytest.mark.skipif(not LOGHUB.is_dir(), reason="loghub corpus not available")
@pytest.mark.parametrize("name, published", [("HDFS", 0.998), ("Apache", 1.0), ("OpenSSH", 0.788)])
def test_loghub_grouping_accuracy_reaches_published_drain(name, published):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from log_templates import grouping_accuracy

    d = LOGHUB / name
    lines = (d / f"{name}_2k.log").read_bytes().decode("utf-8", "surrogateescape").splitlines()
    with open(d / f"{name}_2k.log_structured.csv", newline="", encoding="utf-8") as fh:
        truth = [r["EventId"] for r in csv.DictReader(fh)]
    ts = mine_lines(lines, year=2020)
    assert grouping_accuracy(ts.line_templates.tolist(), truth) >= published


def test_grouping_accuracy_definition():
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from log_templates import grouping_accuracy

    assert grouping_accuracy([1, 1, 2, 3], ["a", "a", "b", "b"]) == 0.5  # b split in two: both wrong
    assert grouping_accuracy([1, 1, 1, 2], ["a", "a", "b", "c"]) == 0.25  # a and b merged: three wrong


def test_cli_log_templates_json_is_stored_and_cascades(cli, wb, issue, tmp_path):
    log = tmp_path / "app.log"
    log.write_text("\n".join(_lines()) + "\n")
    log_id = cli("log", "upload", issue.id, log, "--json").json["id"]
    assert wb.db.query_one("SELECT COUNT(*) FROM log_template_sets")[0] == 0  # nothing mined at upload
    r = cli("log", "templates", log_id, "--json")
    assert r.code == 0, r.stderr
    doc = r.json
    assert set(doc) >= {"templates", "line_templates", "bursts"}
    assert set(doc["templates"][0]) == {"id", "template", "count", "first_seen", "last_seen"}
    assert len(doc["line_templates"]) == 361
    assert {t["id"] for t in doc["templates"]} >= set(doc["line_templates"])
    assert any(b["kind"] == "new_template" for b in doc["bursts"])
    assert wb.db.query_one("SELECT COUNT(*) FROM log_templates WHERE log_file_id = ?", (log_id,))[0] == 3
    # a second call reads the stored result (same answer, no second mining audit entry)
    again = cli("log", "templates", log_id, "--top", "1", "--json").json
    assert len(again["templates"]) == 1 and again["templates"][0] == doc["templates"][0]
    assert again["line_templates"] == doc["line_templates"]
    assert len(wb.audit.get_audit_log(action="mine_log_templates")) == 1
    text = cli("log", "templates", log_id, "--top", "2")
    assert text.code == 0 and "COUNT" in text.stdout and "361 lines, 3 templates" in text.stdout
    assert cli("log", "delete", log_id).code == 0
    assert wb.db.query_one("SELECT COUNT(*) FROM log_templates")[0] == 0
    assert wb.db.query_one("SELECT COUNT(*) FROM log_template_sets")[0] == 0


def test_cli_log_templates_errors(cli, wb, issue):
    r = cli("log", "templates", "no-such-log", "--json")
    assert r.code == 1 and "not found" in r.stderr and "Traceback" not in r.stderr
    log = wb.attachments.upload_log_file_by_content(issue.id, "a.log", "one line\n")
    r = cli("log", "templates", log.id, "--top", "0")
    assert r.code == 1 and "--top" in r.stderr


def test_invalid_utf8_and_crlf_logs_mine(wb, issue):
    data = b"2024-01-01 00:00:01 start \xff\xfe job 1\r\n2024-01-01 00:00:02 start \xff\xfe job 2\r\n"
    log = wb.attachments.upload_log_file_by_content(issue.id, "odd.log", data)
    ts = wb.logs.get_log_templates(log.id)
    assert ts.lines == 2 and len(ts.templates) == 1 and ts.templates[0].count == 2
    assert not ts.templates[0].template.endswith("\r")


def test_damaged_stored_result_is_mined_again(wb, issue):
    log = wb.attachments.upload_log_file_by_content(issue.id, "a.log", "\n".join(_lines()))
    first = wb.logs.get_log_templates(log.id)
    wb.db.execute("UPDATE log_template_sets SET line_templates = x'00ff' WHERE log_file_id = ?", (log.id,))
    again = wb.logs.get_log_templates(log.id)
    assert again.line_templates == first.line_templates


def test_template_summary_for_the_model(wb, issue):
    log = wb.attachments.upload_log_file_by_content(issue.id, "a.log", "\n".join(_lines()))
    s = wb.logs.template_summary(log.id, top=5)
    assert s.startswith("[Template summary, not raw lines]") and "361 lines in 3 templates" in s
    assert "timed out" in s and "new template, first seen" in s and len(s) <= 6000
    small = wb.logs.template_summary(log.id, top=5, max_chars=1000)
    assert len(small) <= 1000 and "Bursts:" in small
