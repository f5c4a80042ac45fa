"""Service metrics aggregation (`streams.metrics`) and the Prometheus exposition of a worker's
figures (`hub.web.metrics`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hub.web.metrics import (
    FaustFigures,
    PartitionOffsets,
    StageFigures,
    TranslationFigures,
    WorkerFacts,
    new_registry,
    parse_prometheus,
    render,
    service_json,
    service_metrics,
    worker_metrics,
)
from schemas.case import Case, CaseMilestones
from streams.metrics import DURATION_BUCKETS, Histogram, ServiceMetrics, SurveyResponse

T0 = datetime(2026, 3, 2, 10, tzinfo=UTC)


def hours(n: float) -> datetime:
    return T0 + timedelta(hours=n)


def case_factory(case_id: str = "c1", version: int = 1, **overrides: Any) -> Case:
    milestones = overrides.pop("milestones", {})
    fields: dict[str, Any] = {
        "case_id": case_id, "marketplace": "shopify", "buyer_country": "DE",
        "reason_code": "damaged", "version": version, "opened_at": T0, "updated_at": T0,
        "status": "requested",
        "milestones": CaseMilestones(return_requested_at=T0, **milestones),
    }
    fields.update(overrides)
    return Case(**fields)


def change(case: Case, event_type: str = "return.requested", event_id: str | None = None) -> bytes:
    return json.dumps({
        "case_id": case.case_id, "version": case.version,
        "event_id": event_id or f"{case.case_id}-e{case.version}", "event_type": event_type,
        "changed_fields": ["status"], "case": json.loads(case.model_dump_json()),
    }).encode()


def by_region(case: Case) -> str:
    return {"DE": "DE", "JP": "JP"}.get(case.buyer_country or "", "US")


@pytest.fixture
def metrics() -> ServiceMetrics:
    return ServiceMetrics(region_of=by_region)


def only_group(metrics: ServiceMetrics) -> Any:
    groups = metrics.groups()
    assert len(groups) == 1, groups
    return groups[0]


def test_cases_are_counted_once_per_case_whatever_the_number_of_changes(
    metrics: ServiceMetrics,
) -> None:
    case = case_factory()
    answered = case_factory(version=2, status="approved", milestones={"responded_at": hours(5)})
    metrics.observe_all([change(case), change(answered, "return.approved"), change(case)])

    group = only_group(metrics)
    assert (group.region, group.marketplace, group.reason) == ("DE", "shopify", "damaged")
    assert group.cases_opened == 1
    assert group.first_response_seconds.count == 1
    assert group.first_response_seconds.total == 5 * 3600


def test_feeding_the_same_records_twice_or_reordered_changes_nothing(
    metrics: ServiceMetrics,
) -> None:
    records = [
        change(case_factory("a")),
        change(case_factory("a", 2, status="refunded",
                            milestones={"responded_at": hours(2), "refunded_at": hours(30)}),
               "refund.succeeded"),
        change(case_factory("b", marketplace="amazon", buyer_country="JP")),
    ]
    again = ServiceMetrics(region_of=by_region)
    metrics.observe_all(records)
    again.observe_all(list(reversed(records)) + records)

    assert [g.as_json() for g in again.groups()] == [g.as_json() for g in metrics.groups()]


def test_a_case_that_learns_its_buyer_country_moves_group(metrics: ServiceMetrics) -> None:
    metrics.observe_bytes(change(case_factory(buyer_country=None)))
    metrics.observe_bytes(change(case_factory(version=2, buyer_country="JP"), "order.placed"))

    assert [(g.region, g.cases_opened) for g in metrics.groups()] == [("JP", 1)]


def test_durations_rates_and_first_contact_resolution(metrics: ServiceMetrics) -> None:
    # a: answered in 2 h, refunded after 30 h: resolved at first contact.
    metrics.observe_bytes(change(case_factory(
        "a", 2, status="refunded", updated_at=hours(30),
        milestones={"responded_at": hours(2), "refunded_at": hours(30)}), "refund.succeeded"))
    # b: the buyer asked twice before the refund: resolved, not at first contact.
    metrics.observe_bytes(change(case_factory("b"), "return.requested", "b-1"))
    metrics.observe_bytes(change(case_factory(
        "b", 3, status="refunded", milestones={"refunded_at": hours(80)}),
        "return.requested", "b-2"))
    # c: a dispute, still open.
    metrics.observe_bytes(change(case_factory(
        "c", 2, status="disputed", disputed=True, milestones={"dispute_opened_at": hours(3)}),
        "dispute.opened"))
    # d: answered late: the SLA breach record escalates it.
    closed_late = case_factory("d", status="closed", updated_at=hours(70),
                               milestones={"closed_at": hours(70)})
    metrics.observe_bytes(change(closed_late, "return.closed"))
    metrics.observe_bytes(change(case_factory("d"), "sla.breach", "d:first_response:breach:x"))

    group = only_group(metrics)
    assert group.cases_opened == 4
    assert (group.resolved, group.first_contact_resolved) == (3, 1)
    assert (group.escalated, group.disputed) == (2, 1)
    assert group.first_contact_resolution_rate == pytest.approx(1 / 3)
    assert group.escalation_rate == pytest.approx(0.5)
    assert group.dispute_rate == pytest.approx(0.25)
    assert group.refund_seconds.count == 2
    assert group.refund_seconds.total == (30 + 80) * 3600
    assert group.resolution_seconds.count == 3
    assert group.csat is None


def test_survey_answers_give_csat_even_when_they_arrive_first(metrics: ServiceMetrics) -> None:
    survey = SurveyResponse(case_id="a", survey_id="s1", score=5, responded_at=hours(100))
    unhappy = SurveyResponse(case_id="b", survey_id="s2", score=2, responded_at=hours(100))
    record = json.dumps({"event_type": "survey.completed",
                         "survey": json.loads(unhappy.model_dump_json())}).encode()

    metrics.observe_survey(survey)
    assert metrics.groups() == []  # counted once its case is known
    assert metrics.observe_bytes(record)
    metrics.observe_all([change(case_factory("a")), change(case_factory("b"))])

    group = only_group(metrics)
    assert (group.csat_responses, group.csat_satisfied, group.csat) == (2, 1, 0.5)


@pytest.mark.parametrize("garbage", [b"", b"{", b"[]", b'{"case_id": "x"}', None])
def test_unreadable_records_are_skipped_and_counted(
    metrics: ServiceMetrics, garbage: bytes | None
) -> None:
    assert metrics.observe_bytes(garbage) is False
    assert (metrics.records_seen, metrics.records_skipped, metrics.groups()) == (1, 1, [])


def test_histogram_buckets_are_cumulative_and_removal_is_exact() -> None:
    histogram = Histogram()
    for value in (60.0, 3600.0, 3601.0, 10 * 86400.0, 99 * 86400.0):
        histogram.add(value)
    histogram.add(3601.0, -1)

    cumulative = dict(histogram.cumulative())
    assert cumulative[DURATION_BUCKETS[0]] == 2  # 60 s and exactly 1 h
    assert cumulative[float("inf")] == histogram.count == 4
    assert histogram.quantile(0.5) == pytest.approx(3600.0)
    assert Histogram().quantile(0.5) is None


def exposition(*families: Any) -> str:
    return render(new_registry(lambda: families)).decode()


def test_service_figures_render_as_valid_prometheus_text(metrics: ServiceMetrics) -> None:
    metrics.observe_all([
        change(case_factory("a", reason_code=None)),
        change(case_factory("b", marketplace='we"ird\\mk', buyer_country="JP",
                            milestones={"responded_at": hours(1)})),
    ])

    text = exposition(*service_metrics(metrics.groups()))
    samples = parse_prometheus(text)

    opened = {(s[0]["marketplace"], s[0]["reason"]): s[1]
              for s in samples["hub_service_cases_opened"]}
    assert opened == {("shopify", "unknown"): 1.0, ('we"ird\\mk', "damaged"): 1.0}
    buckets = [s for s in samples["hub_service_time_to_first_response_seconds_bucket"]
               if s[0]["marketplace"] == 'we"ird\\mk']
    assert [s[0]["le"] for s in buckets][-1] == "+Inf"
    assert all(s[1] == 1.0 for s in buckets)
    assert "# TYPE hub_service_time_to_first_response_seconds histogram" in text
    # An undefined ratio (nothing resolved yet) is left out, not reported as 0 or NaN.
    assert "hub_service_first_contact_resolution_ratio" not in samples


def test_sla_breaches_are_counted_per_group(metrics: ServiceMetrics) -> None:
    case = case_factory("late")
    metrics.observe_all([change(case), change(case, event_type="sla.breach", event_id="b1")])

    samples = parse_prometheus(exposition(*service_metrics(metrics.groups())))

    assert samples["hub_service_cases_sla_breached"] == [
        ({"region": "DE", "marketplace": "shopify", "reason": "damaged"}, 1.0)]


def worker_facts(**overrides: Any) -> WorkerFacts:
    fields: dict[str, Any] = dict(
        app_id="hub", web_port=6066, ready=True, rebalancing=False, assigned_partitions=8,
        events_per_second=12.0,
        stages={"ingest": StageFigures(1000, 900), "case_step": StageFigures(900, 2000),
                "feeds": StageFigures(800, 790)},
        dead_letters=(("normalize", "shopify", "SkippableRecordError", 2),
                      ("feeds", "case.changes", "FeedRecordError", 1)),
        parked_events=3,
        partitions=(PartitionOffsets("raw.shopify", 0, 10, 25, "ingest"),
                    PartitionOffsets("raw.shopify", 1, None, 7, "ingest")),
        read_model_cases=5, read_model_policies=4, read_model_caught_up=True,
        service_records=50, service_records_skipped=0, service_caught_up=True,
        ingest_records=(("shopify", 990), ("stripe", 10)),
        ingest_sent=(("event", 800), ("link", 100)),
        ignored_payloads=(("stripe", "customer.created", 4), ("shopify", "products/update", 1)),
        case_step_batches=40,
        faust=FaustFigures(11, 12, 0, 13, 1, 2, 0, 3),
        translation=TranslationFigures((("stream", "translated", 5), ("stream", "memory", 7)),
                                       "open", 2, 9),
    )
    fields.update(overrides)
    return WorkerFacts(**fields)


def test_worker_metrics_report_lag_dead_letters_and_stage_counters() -> None:
    facts = worker_facts()

    samples = parse_prometheus(exposition(*worker_metrics(facts)))

    assert ({"source": "stripe", "kind": "customer.created"}, 4.0) in samples[
        "hub_ingest_ignored_total"]
    assert facts.as_json()["ignored_payloads"][1] == {
        "source": "shopify", "kind": "products/update", "count": 1}
    assert samples["hub_consumer_lag_records"] == [
        ({"stage": "ingest", "topic": "raw.shopify", "partition": "0"}, 15.0)]
    assert samples["hub_consumer_end_offset"][1] == (
        {"stage": "ingest", "topic": "raw.shopify", "partition": "1"}, 7.0)
    dead = {(labels["stage"], labels["source"]): value
            for labels, value in samples["hub_dead_letters_total"]}
    # Every dead-letter stage has a series, the ones that sent none at 0.
    assert dead == {("normalize", "shopify"): 2.0, ("feeds", "case.changes"): 1.0,
                    ("cases", ""): 0.0}
    assert samples["hub_case_step_parked_references"] == [({}, 3.0)]
    assert ({"stage": "feeds"}, 800.0) in samples["hub_stage_records_total"]
    assert ({"source": "stripe"}, 10.0) in samples["hub_ingest_records_total"]
    assert ({"kind": "link"}, 100.0) in samples["hub_ingest_records_sent_total"]
    assert samples["hub_case_step_batches_total"] == [({}, 40.0)]
    assert samples["hub_faust_rebalances_total"] == [({}, 3.0)]
    assert ({"path": "stream", "outcome": "memory"}, 7.0) in samples[
        "hub_translation_results_total"]
    assert sorted(samples["hub_translation_circuit_state"], key=lambda s: s[0]["state"]) == [
        ({"state": "closed"}, 0.0), ({"state": "half_open"}, 0.0), ({"state": "open"}, 1.0)]
    document = facts.as_json()
    assert document["consumer_lag_total"] == 15
    assert document["dead_letters"] == {"normalize": 2, "cases": 0, "feeds": 1}
    assert document["events_total"] == 2700


def test_the_exposition_follows_the_naming_guide() -> None:
    """hub_ prefix, snake case, counters end in _total, no unit but base units."""
    text = exposition(*worker_metrics(worker_facts()))
    families = [line.split()[2:4] for line in text.splitlines() if line.startswith("# TYPE")]
    ours = [(name, kind) for name, kind in families if name.startswith("hub_")]
    assert len(ours) > 20
    for name, kind in ours:
        assert name == name.lower() and "__" not in name
        assert name.endswith("_total") == (kind == "counter"), name
        assert not any(unit in name.split("_") for unit in ("ms", "milliseconds", "minutes"))
    # The client's own process collectors are in every app's registry.
    assert "process_cpu_seconds_total" in text and "python_info" in text


def test_registries_of_two_apps_do_not_collide() -> None:
    first = new_registry(lambda: worker_metrics(worker_facts(case_step_batches=1)))
    second = new_registry(lambda: worker_metrics(worker_facts(case_step_batches=2)))

    assert parse_prometheus(render(first).decode())["hub_case_step_batches_total"] == [({}, 1.0)]
    assert parse_prometheus(render(second).decode())["hub_case_step_batches_total"] == [({}, 2.0)]


def test_service_json_sums_per_marketplace_and_region(metrics: ServiceMetrics) -> None:
    metrics.observe_all([
        change(case_factory("a")), change(case_factory("b", reason_code="size_fit")),
        change(case_factory("c", marketplace="amazon", buyer_country="JP")),
    ])

    document = service_json(metrics)

    assert document["by_marketplace"] == {"amazon": 1, "shopify": 2}
    regions = [(r["region"], r["cases_opened"]) for r in document["by_region"]]
    assert regions == [("DE", 2), ("JP", 1)]
    assert document["totals"]["cases_opened"] == 3
    json.dumps(document)  # JSON-able as it is


def test_the_open_metrics_hold_no_case_data(metrics: ServiceMetrics) -> None:
    """/metrics, /metrics.json and /dashboard need no token: aggregates only, no case's ids or
    buyer's text."""
    case = case_factory("case-secret-77", order_id="ORDER-SECRET-77", refund_ids=["re_SECRET"],
                        reason_text="Call Anna Schmidt at +49 30 1234567",
                        return_tracking_numbers=["1ZSECRET77"])
    metrics.observe_bytes(change(case))
    published = exposition(*service_metrics(metrics.groups())) + json.dumps(
        service_json(metrics))
    for secret in ("SECRET", "Anna", "1234567"):
        assert secret not in published


def test_an_agents_first_reply_is_the_first_response_and_escalation_or_reopening_is_no_fcr(
    metrics: ServiceMetrics,
) -> None:
    # a: an agent replied after 3 h and closed it: resolved at first contact.
    metrics.observe_bytes(change(case_factory(
        "a", 3, status="closed",
        milestones={"responded_at": hours(3), "first_reply_at": hours(3),
                    "closed_at": hours(5)}), "case.closed"))
    # b: closed by an agent, but escalated first.
    metrics.observe_bytes(change(case_factory(
        "b", 3, status="closed", escalated=True,
        milestones={"escalated_at": hours(1), "closed_at": hours(6)}), "case.closed"))
    # c: closed, then the buyer came back, then closed again.
    metrics.observe_bytes(change(case_factory(
        "c", 5, status="closed", reopened=1, milestones={"closed_at": hours(9)}), "case.closed"))
    group = only_group(metrics)
    assert (group.resolved, group.first_contact_resolved, group.escalated) == (3, 1, 1)
    assert group.first_response_seconds.count == 1
    assert group.first_response_seconds.total == 3 * 3600
