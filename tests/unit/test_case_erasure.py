"""Erasure in the case step, without a broker: a case's state goes, its compacted outputs get
tombstones, its references get erase messages of their own and forget it only if it is theirs."""

from __future__ import annotations

from datetime import timedelta

from schemas.events import CANONICAL_EVENT
from schemas.records import ERASE_MESSAGE, INBOX_KINDS
from streams.case_step import (
    CaseState,
    ReferenceState,
    StepSettings,
    decode_state,
    erase_case,
    erasure_targets,
    step_case,
)
from streams.cases import case_id_for_order
from streams.policy import load_policy
from tests.support.events import at
from tests.unit.test_case_fold import CASE_ID, scenario

SETTINGS = StepSettings(policy=load_policy(), settle=timedelta(0), parked_ttl=timedelta(hours=3))


def built_case() -> CaseState:
    events = scenario()
    result = step_case(None, CASE_ID, [(CANONICAL_EVENT.dump_json(e), e) for e in events],
                       now=at(1000), settings=SETTINGS)
    state = decode_state(result.state.encode())  # type: ignore[union-attr]
    assert isinstance(state, CaseState)
    return state


def test_the_targets_are_the_cases_references_and_published_parcels() -> None:
    state = built_case()
    targets = erasure_targets(state)
    published = step_case(None, CASE_ID, [(CANONICAL_EVENT.dump_json(e), e) for e in scenario()],
                          now=at(1000), settings=SETTINGS).outputs
    assert set(targets.tracking_numbers) == {
        o.key.decode() for o in published if o.role == "shipments"}
    assert targets.tracking_numbers
    assert {"payment:pi_1", "return:r1"} <= set(targets.references)
    assert not any(reference.startswith("order:") for reference in targets.references)


def test_erasing_a_case_deletes_its_state_and_tombstones_what_it_published() -> None:
    state = built_case()
    targets = erasure_targets(state)
    result = erase_case(state, CASE_ID, case_id=CASE_ID)
    assert result.erased and result.state is None
    tombstones = {(o.role, o.key.decode()) for o in result.outputs if o.value is None}
    assert tombstones == {("cases", CASE_ID), ("policy", CASE_ID), ("changes", CASE_ID),
                          *(("shipments", n) for n in targets.tracking_numbers)}
    erases = [o for o in result.outputs if o.role == "inbox"]
    assert sorted(o.key.decode() for o in erases) == list(targets.references)
    for out in erases:
        assert out.kind == "erase" and out.kind in INBOX_KINDS.values()
        assert ERASE_MESSAGE.validate_json(out.value or b"").case_id == CASE_ID


def test_erasing_an_unknown_case_still_clears_its_outputs() -> None:
    result = erase_case(None, CASE_ID, case_id=CASE_ID)
    assert not result.erased
    assert {(o.role, o.value) for o in result.outputs} == {
        ("cases", None), ("policy", None), ("changes", None)}


def test_a_reference_forgets_only_the_case_it_belongs_to() -> None:
    other = case_id_for_order("2002")
    assert erase_case(ReferenceState(CASE_ID), "payment:pi_1", case_id=CASE_ID).erased
    taken = erase_case(ReferenceState(other), "payment:pi_1", case_id=CASE_ID)
    assert not taken.erased and taken.outputs == []
    parked = ReferenceState(None, parked_ids=("e1",), parked_at=(at(0),), parked_raw=(b"{}",))
    assert not erase_case(parked, "payment:pi_1", case_id=CASE_ID).erased
    assert not erase_case(None, "payment:pi_1", case_id=CASE_ID).erased


def test_the_report_says_what_was_removed_and_when_the_rest_expires() -> None:
    from datetime import UTC, datetime

    from hub.erasure import Erasure, ErasureRequest, _expires_by
    from schemas.settings import load_settings

    request = ErasureRequest.for_order("1001")
    assert request.case_id == case_id_for_order("1001")
    expires = _expires_by(load_settings(), datetime(2026, 1, 1, tzinfo=UTC))
    assert expires["raw.<source>"] == "2026-01-15" and expires["case.inbox"] == "2026-01-08"
    assert expires["case.changes"] == expires["dlq.cases"] == "2026-01-31"
    report = Erasure(case_id=request.case_id, order_id="1001", known=True, confirmed=True,
                     references=("tracking:T1",), tracking_numbers=("T1",),
                     tombstones={"case.state": 2, "shipments": 1, "case.policy": 0},
                     expires_by=expires)
    text = "\n".join(report.describe())
    assert "order 1001" in text and "erased" in text
    assert "case.state" in text and "2 key(s) removed" in text and "case.policy" not in text
    assert "raw.<source>" in text and "expires by 2026-01-15" in text
    assert report.as_json()["tombstones"]["shipments"] == 1
    unknown = Erasure(case_id="case-x", order_id=None, known=False, confirmed=False)
    assert unknown.describe() == [
        "case case-x: unknown to the case step; tombstones for its outputs queued"]
