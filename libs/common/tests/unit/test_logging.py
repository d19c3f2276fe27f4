import json
import logging

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from school_common.logging import JsonFormatter, scrub


def test_personal_data_is_masked():
    text = "guardian 0901234567 id 079185001234 mail an.nguyen@example.vn token Bearer abc.def.ghi"
    masked = scrub(text)
    for secret in ("0901234567", "079185001234", "an.nguyen@example.vn", "abc.def.ghi"):
        assert secret not in masked


def test_json_lines_carry_trace_ids_and_redact_personal_fields():
    formatter = JsonFormatter("svc")
    provider = TracerProvider()
    with provider.get_tracer("t").start_as_current_span("s") as span:
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "enrolled %s", ("student",), None)
        record.full_name = "Nguyễn Văn An"
        record.class_id = "c-1"
        line = json.loads(formatter.format(record))
        assert line["trace_id"] == format(span.get_span_context().trace_id, "032x")
    assert line["message"] == "enrolled student"
    assert line["full_name"] == "[redacted]"
    assert line["class_id"] == "c-1"
    assert line["service"] == "svc"
    _ = trace
