from __future__ import annotations

import json
from pathlib import Path

from gateway import openapi
from gateway.app import create_app
from gateway.settings import GatewaySettings
from gateway.tests.support import GatewayClient

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "api" / "openapi.json"

# POSTs that create nothing a retry could duplicate: no request_id in their RPC, so no Idempotency-Key.
NATURALLY_IDEMPOTENT = {
    "verifyCitizen",
    "decideLinkRequest",
    "confirmSelfReview",
    "decideClubMembership",
    "lockSemester",
    "decideGradeChange",
    "publishResults",
    # Deciding a transfer again the same way answers the movement as it is; DecideTransfer has no
    # request_id.
    "decideTransfer",
    # Importing the same student list again changes nothing (every row unchanged); ImportStudents has no
    # request_id.
    "importStudentList",
    # A leave request is decided once; withdrawing, disabling a device or discarding a sample again changes
    # nothing. DecideLeave, CancelLeave, DisableGateDevice and DiscardFoodSample have no request_id.
    "decideLeave",
    "cancelLeave",
    "disableGateDevice",
    "discardFoodSample",
    # A gate terminal's taps carry their own ids (tap_id): a batch sent again is merged, never recorded twice.
    "recordCheckIns",
}

# PUTs whose RPC has a request_id (they write many rows at once) also take an Idempotency-Key.
IDEMPOTENT_PUTS = {"markAttendance", "registerBoarding"}

# Operations anyone may call without a token (`security: []`): the transcript and diploma verification pages.
PUBLIC = {"verifyTranscript", "verifyDiploma"}


def render() -> str:
    return openapi.render(create_app(GatewaySettings.model_construct()))


def test_committed_document_is_up_to_date() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == render(), "run: python -m gateway.openapi"


def test_rendering_is_deterministic() -> None:
    text = render()
    assert text == render()
    assert text.endswith("}\n")
    assert json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n" == text


def test_check_mode(tmp_path: Path) -> None:
    target = tmp_path / "openapi.json"
    assert openapi.main(["--check", "--output", str(target)]) == 1  # missing
    assert openapi.main(["--output", str(target)]) == 0
    assert openapi.main(["--check", "--output", str(target)]) == 0
    target.write_text(target.read_text().replace("createSchool", "makeSchool"))
    assert openapi.main(["--check", "--output", str(target)]) == 1


def test_every_operation_is_secured_and_documents_problems() -> None:
    document = json.loads(render())
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert "HTTPValidationError" not in document["components"]["schemas"]
    operations = [(path, op) for path, item in document["paths"].items() for op in item.values()]
    assert {op["operationId"] for _, op in operations} == {
        "createTenant",
        "getTenant",
        "getMe",
        "importStaff",
        "listStaff",
        "verifyCitizen",
        "createLinkRequest",
        "listLinkRequests",
        "decideLinkRequest",
        "listConsentPurposes",
        "listConsents",
        "grantConsent",
        "withdrawConsent",
        "listAuditEvents",
        "exportAuditEvents",
        "getStudent",
        "addGuardian",
        "createSchool",
        "listSchools",
        "getSchool",
        "createClass",
        "listClasses",
        "enrolStudent",
        "listClassStudents",
        "getClassRoster",
        "recordViolation",
        "listStudentViolations",
        "confirmSelfReview",
        "recordReward",
        "listStudentRewards",
        "createClub",
        "listClubs",
        "requestClubMembership",
        "decideClubMembership",
        "listClubMembers",
        "recordClubSession",
        "listStudentClubs",
        "listSubjects",
        "defineSchoolYear",
        "listSchoolYears",
        "lockSemester",
        "recordAssessments",
        "getClassGradebook",
        "recordRatings",
        "requestGradeChange",
        "listGradeChanges",
        "decideGradeChange",
        "getStudentResults",
        "publishResults",
        "importStudentList",
        "exportStudentList",
        "issueTranscripts",
        "correctTranscript",
        "listStudentTranscripts",
        "getTranscriptDocument",
        "verifyTranscript",
        "moveStudent",
        "requestTransfer",
        "decideTransfer",
        "listMovements",
        "transferStudentOut",
        "getStudentRecordPackage",
        "admitStudentWithRecord",
        "listReceivedRecords",
        "getReceivedRecord",
        "issueDiploma",
        "correctDiploma",
        "revokeDiploma",
        "listSchoolDiplomas",
        "listStudentDiplomas",
        "verifyDiploma",
        "getSchoolCalendar",
        "configureSchoolCalendar",
        "markAttendance",
        "getRegister",
        "listRegisterChanges",
        "listStudentAttendance",
        "getAbsenceSummary",
        "listClassAbsenceSummaries",
        "requestLeave",
        "decideLeave",
        "cancelLeave",
        "listLeaveRequests",
        "registerGateDevice",
        "listGateDevices",
        "disableGateDevice",
        "assignGateCredential",
        "removeGateCredential",
        "getGateReconciliation",
        "recordCheckIns",
        "getBoardingSettings",
        "configureBoarding",
        "registerBoarding",
        "listBoardingRegistrations",
        "getMealCount",
        "publishMenu",
        "listMenus",
        "recordMealAttendance",
        "getMealAttendance",
        "recordFoodSample",
        "discardFoodSample",
        "listFoodSamples",
        "computeBoardingCharges",
        "listSchoolBoardingCharges",
        "listStudentBoardingCharges",
    }
    for path, op in operations:
        assert path.startswith("/v1/")
        public = op["operationId"] in PUBLIC
        if public:
            assert op["security"] == [], path
            assert path.startswith("/v1/public/"), path
            assert "401" not in op["responses"], path
        else:
            assert op["security"] == [{"bearerAuth": []}]
            assert not path.startswith("/v1/public/"), path
            assert "401" in op["responses"], path
        assert op["tags"]
        assert " / " in op["summary"]
        for status in ("429", "500", "503"):
            assert status in op["responses"], (path, status)
        for status, response in op["responses"].items():
            if int(status) >= 400:
                expected = ["application/problem+json"] + (["text/html"] if public else [])
                assert list(response["content"]) == expected, (path, status)
                assert response["content"]["application/problem+json"]["schema"] == {
                    "$ref": "#/components/schemas/Problem"
                }
    for path, item in document["paths"].items():
        if "post" in item:
            names = [p["name"] for p in item["post"].get("parameters", [])]
            expected = item["post"]["operationId"] not in NATURALLY_IDEMPOTENT
            assert ("Idempotency-Key" in names) == expected, path
        if "put" in item:
            names = [p["name"] for p in item["put"].get("parameters", [])]
            assert ("Idempotency-Key" in names) == (item["put"]["operationId"] in IDEMPOTENT_PUTS), path


def test_gate_check_ins_are_the_partner_api() -> None:
    document = json.loads(render())
    check_ins = document["paths"]["/v1/partner/gate/check-ins"]["post"]
    assert check_ins["tags"] == ["partners"]
    assert "partners" in {tag["name"] for tag in document["tags"]}
    # How a device gets its token: client credentials at the realm's token endpoint given at registration.
    for words in ("client credentials", "`token_endpoint`", "registerGateDevice", "5,000", "4 MiB"):
        assert words in check_ins["description"], words
    assert {"403", "413", "415", "422"} <= set(check_ins["responses"])
    taps = document["components"]["schemas"]["CheckInBatch"]["properties"]["taps"]
    assert (taps["minItems"], taps["maxItems"]) == (1, 5000)
    tap = document["components"]["schemas"]["TapIn"]["properties"]
    assert tap["tapped_at"]["format"] == "date-time"
    registration = document["components"]["schemas"]["GateDeviceRegistration"]["properties"]
    assert {"device", "client_secret", "token_endpoint"} <= set(registration)
    assert "client_secret" not in document["components"]["schemas"]["GateDevice"]["properties"]


def test_attendance_enums_are_lower_case_names() -> None:
    schemas = json.loads(render())["components"]["schemas"]
    assert schemas["MarkIn"]["properties"]["status"]["enum"] == [
        "present",
        "absent_excused",
        "absent_unexcused",
        "late",
        "left_early",
    ]
    register = json.loads(render())["paths"]["/v1/attendance/classes/{class_id}/registers/{date}/{session}"]
    parameters = {p["name"]: p["schema"] for p in register["get"]["parameters"]}
    assert parameters["session"]["enum"] == ["morning", "afternoon"]
    assert parameters["date"]["format"] == "date"
    removal = json.loads(render())["paths"][
        "/v1/attendance/schools/{school_id}/gate-credentials/{credential}"
    ]
    assert "content" not in removal["delete"]["responses"]["204"]


def test_documented_media_types() -> None:
    document = json.loads(render())
    upload = document["paths"]["/v1/staff/imports"]["post"]
    schema = upload["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert schema["required"] == ["file"]
    assert schema["properties"]["file"]["format"] == "binary"
    assert {"413", "415"} <= set(upload["responses"])
    export = document["paths"]["/v1/audit-events/export"]["get"]["responses"]["200"]
    assert list(export["content"]) == ["text/csv; charset=utf-8"]
    assert "Content-Disposition" in export["headers"]
    student_list = document["paths"]["/v1/schools/{school_id}/student-lists/{school_year}"]
    upload = student_list["post"]
    assert upload["requestBody"]["content"]["multipart/form-data"]["schema"]["required"] == ["file"]
    assert "10 MiB" in upload["description"]
    assert {"413", "415"} <= set(upload["responses"])
    sheet = student_list["get"]["responses"]["200"]
    assert list(sheet["content"]) == ["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"]
    assert "Content-Disposition" in sheet["headers"]
    document_200 = document["paths"]["/v1/transcripts/{transcript_id}/document"]["get"]["responses"]["200"]
    assert list(document_200["content"]) == ["application/pdf", "application/xml"]
    for path in (
        "/v1/students/{student_id}/record-package",
        "/v1/students/{student_id}/received-records/{record_id}",
    ):
        package = document["paths"][path]["get"]["responses"]["200"]
        assert list(package["content"]) == ["application/xml"], path
        assert "Content-Disposition" in package["headers"], path
    arrival = document["paths"]["/v1/classes/{class_id}/arrivals"]["post"]
    form = arrival["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert form["required"] == ["file", "effective_on"]
    assert form["properties"]["file"]["format"] == "binary"
    assert form["properties"]["effective_on"]["format"] == "date"
    assert "10 MiB" in arrival["description"]
    assert {"413", "415", "422"} <= set(arrival["responses"])
    assert arrival["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Arrival"
    }
    assert "Idempotency-Key" in [p["name"] for p in arrival["parameters"]]
    kinds = document["components"]["schemas"]["Movement"]["properties"]["kind"]
    assert "transfer_out" in json.dumps(kinds)
    assert "transfer_in" in json.dumps(kinds)
    verification = document["paths"]["/v1/public/transcripts/{tenant}/{transcript_id}"]["get"]["responses"]
    assert list(verification["200"]["content"]) == ["application/json", "text/html"]
    assert "422" not in verification
    diploma = document["paths"]["/v1/public/diplomas/{tenant}/{serial_number}"]["get"]
    assert list(diploma["responses"]["200"]["content"]) == ["application/json", "text/html"]
    assert diploma["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/DiplomaVerification"
    }
    assert "422" not in diploma["responses"]
    assert [p["name"] for p in diploma["parameters"]] == ["tenant", "serial_number", "code"]


def test_no_lower_secondary_diploma() -> None:
    """Abolished from 1/1/2026: no kind, no route can express it."""
    schemas = json.loads(render())["components"]["schemas"]
    assert schemas["DiplomaCreate"]["properties"]["kind"]["enum"] == [
        "upper_secondary_diploma",
        "upper_secondary_completion",
    ]


def test_personal_id_is_write_only() -> None:
    schemas = json.loads(render())["components"]["schemas"]
    assert schemas["CitizenVerificationCreate"]["properties"]["personal_id"]["writeOnly"] is True
    assert '"writeOnly": true' in json.dumps(schemas["NewStudent"]["properties"]["personal_id"])
    for name, schema in schemas.items():
        if name.endswith(("Create", "In")) or name in ("Problem", "NewStudent"):
            continue
        assert "personal_id" not in schema.get("properties", {}), name


async def test_openapi_is_served(client: GatewayClient) -> None:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    assert response.json() == json.loads(render())
