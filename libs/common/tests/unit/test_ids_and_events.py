import uuid

import pytest
from school_common.events.cloudevents import Event, subject_for
from school_common.ids import parse_uuid, uuid7


def test_uuid7_is_version_7_and_sorts_by_creation():
    ids = [uuid7() for _ in range(2000)]
    assert all(i.version == 7 for i in ids)
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_parse_uuid():
    assert parse_uuid("not-a-uuid") is None
    value = uuid.uuid4()
    assert parse_uuid(str(value)) == value


def test_cloudevent_binary_mode_round_trip():
    event = Event(
        id="e1",
        type="t",
        source="/school/x",
        subject=subject_for("student_record", "student.enrolled"),
        tenant="demo",
        data=b"\x01",
        traceparent="00-" + "1" * 32 + "-" + "2" * 16 + "-01",
        actor="f91976d9-68cb-4610-a1c2-649533a7864e",
    )
    headers = event.headers()
    assert headers["ce-actor"] == event.actor
    assert headers["ce-specversion"] == "1.0"
    assert headers["Nats-Msg-Id"] == "e1"
    assert event.subject == "school.student_record.student.enrolled.v1"
    back = Event.from_message(event.subject, headers, event.data)
    assert (back.id, back.tenant, back.traceparent, back.actor) == (
        "e1",
        "demo",
        event.traceparent,
        event.actor,
    )
    # an event no person caused carries no actor
    assert "ce-actor" not in Event("e2", "t", "/s", "s", "demo", b"").headers()


def test_a_message_without_cloudevent_headers_is_refused():
    with pytest.raises(ValueError, match="ce-tenantid"):
        Event.from_message("s", {"ce-id": "1", "ce-type": "t", "ce-source": "s"}, b"")
