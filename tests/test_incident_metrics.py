"""The one definition of the incident metrics (pure function)."""

from __future__ import annotations

from tftsr_kernel.incident_metrics import format_duration, incident_metrics
from tftsr_kernel.models import TimelineEvent


def ev(t, kind, meta=None, occurred=None):
    d = {"event_type": kind, "created_at": t, "metadata": meta}
    if occurred:
        d["occurred_at"] = occurred
    return d


def test_backfilled_timeline():
    # recorded at 15:00 onwards, but backfilled to when things happened
    events = [
        ev("2024-05-01 15:00:00", "page", occurred="2024-05-01 14:02:00"),
        ev("2024-05-01 15:00:05", "note", occurred="2024-05-01 14:00:00"),  # first symptom: the start
        ev("2024-05-01 15:00:10", "status_change", {"from": "open", "to": "investigating"},
           occurred="2024-05-01 14:05:00"),
        ev("2024-05-01 15:00:20", "mitigation", occurred="2024-05-01 14:10:00"),
        ev("2024-05-01 15:30:00", "root_cause_identified"),
        ev("2024-05-01 15:40:00", "status_change", {"from": "investigating", "to": "resolved"}),
    ]
    m = incident_metrics(events, created_at="2024-05-01 14:59:00")
    assert m.started_at == "2024-05-01 14:00:00"
    assert m.metrics() == {"time_to_detect_s": 120, "time_to_acknowledge_s": 300, "time_to_mitigate_s": 600,
                           "time_to_resolve_s": 6000, "time_to_root_cause_s": 5400}
    # the order events are given in does not matter
    assert incident_metrics(list(reversed(events)), "2024-05-01 14:59:00") == m


def test_nothing_happened_is_null_and_start_falls_back_to_creation():
    m = incident_metrics([], created_at="2024-05-01 10:00:00")
    assert m.started_at == "2024-05-01 10:00:00"
    assert set(m.metrics().values()) == {None}
    m = incident_metrics([], None)
    assert m.started_at is None and set(m.metrics().values()) == {None}


def test_fallbacks_and_milestones_and_records():
    events = [
        TimelineEvent("1", "i", "triage_started", "x", None, "2024-05-01 10:00:00"),
        TimelineEvent("2", "i", "action", "restart", None, "2024-05-01 10:03:00"),
        TimelineEvent("3", "i", "note", "customer told", {"milestone": "mitigated"}, "2024-05-01 10:07:30"),
    ]
    m = incident_metrics(events, "2024-05-01 09:59:00", resolved_at="2024-05-01 11:00:00")
    assert m.started_at == "2024-05-01 10:00:00"
    assert (m.time_to_detect_s, m.time_to_acknowledge_s, m.time_to_mitigate_s, m.time_to_resolve_s,
            m.time_to_root_cause_s) == (0, 180, 450, 3600, None)


def test_unparseable_times_are_ignored():
    m = incident_metrics([ev("garbage", "page"), ev("2024-05-01 10:00:00", "mitigation")], "2024-05-01 10:00:00")
    assert m.time_to_detect_s is None and m.time_to_mitigate_s == 0


def test_format_duration():
    assert [format_duration(s) for s in (None, 0, 59, 60, 800, 3600, 7500, 90000)] == \
        ["-", "0s", "59s", "1m 00s", "13m 20s", "1h 00m", "2h 05m", "1d 1h"]


def test_acknowledged_is_the_first_response_whichever_kind():
    # backfilled: paged 14:02, rolled back 14:10; the status was set to investigating only at 15:01
    events = [
        ev("2024-05-01 15:00:00", "page", occurred="2024-05-01 14:02:00"),
        ev("2024-05-01 15:00:30", "mitigation", occurred="2024-05-01 14:10:00"),
        ev("2024-05-01 15:01:00", "status_change", {"from": "open", "to": "investigating"}),
    ]
    m = incident_metrics(events, "2024-05-01 15:00:00")
    assert (m.time_to_detect_s, m.time_to_acknowledge_s, m.time_to_mitigate_s) == (0, 480, 480)
    # a customer communication after the page is a response too; a note before it is not
    events = [ev("2024-05-01 10:00:00", "note"), ev("2024-05-01 10:05:00", "page"),
              ev("2024-05-01 10:09:00", "customer_communication")]
    m = incident_metrics(events, "2024-05-01 10:00:00")
    assert (m.time_to_detect_s, m.time_to_acknowledge_s) == (300, 540)
    assert m.duration_s is None and dict(m.rows())["Time to acknowledge"] == "9m 00s"
    assert dict(m.rows({"time_to_resolve_s": "not yet"}))["Time to resolve"] == "not yet"
