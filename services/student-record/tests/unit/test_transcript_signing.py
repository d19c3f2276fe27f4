"""Signing a transcript (PAdES + XML-DSig) with the development CA, and verifying it: our verifier and,
independently, pyHanko's and signxml's own validators. Tampering, a foreign CA and an unsigned update
after the institution's signature must all make the documents invalid.
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import stat
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from cryptography import x509
from lxml import etree
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from school_common.errors import InvalidArgument
from signxml import SignatureConfiguration, XMLVerifier
from signxml.exceptions import InvalidCertificate, InvalidDigest, InvalidSignature
from student_record.transcripts.content import NAMESPACE, Signatory, Table, TranscriptContent
from student_record.transcripts.devca import ROOT_COMMON_NAME, ROOT_KEY_FILE, DevCA, ensure_dev_ca, main
from student_record.transcripts.render import parse_xml, render_pdf, render_xml
from student_record.transcripts.signing import (
    LocalSigner,
    SigningIdentity,
    Verification,
    add_xml_signature,
    sign_transcript,
    verify_pdf,
    verify_xml,
)

TRANSCRIPT_ID = "9a1c2e3f-4b5d-4e6f-8a7b-1c2d3e4f5a6b"
N = f"{{{NAMESPACE}}}"
DS = "{http://www.w3.org/2000/09/xmldsig#}"
TEACHER = SigningIdentity("person", "kc|0f6e2d", "Trần Văn Hùng")
PRINCIPAL = SigningIdentity("person", "kc|7a1b9c", "Lê Thị Thu Hà")
SCHOOL = SigningIdentity("institution", "school-79000701", "Trường THPT Nguyễn Thị Minh Khai")


def sample() -> TranscriptContent:
    return TranscriptContent(
        transcript_id=TRANSCRIPT_ID,
        version=1,
        supersedes=None,
        authority_name="Sở Giáo dục và Đào tạo Thành phố Hồ Chí Minh",
        school_name="Trường THPT Nguyễn Thị Minh Khai",
        school_code="79000701",
        level="upper_secondary",
        school_year="2025-2026",
        class_name="11A2",
        grade=11,
        student_name="Nguyễn Thị Ánh Dương",
        date_of_birth=date(2009, 9, 2),
        sex="female",
        student_code="",
        tables=(
            Table(
                "Kết quả học tập các môn học và hoạt động giáo dục",
                ("Môn học", "Học kỳ I", "Học kỳ II", "Cả năm"),
                (
                    ("Toán", "8,3", "7,5", "7,8"),
                    ("Ngữ văn", "7,0", "8,0", "7,7"),
                    ("Giáo dục thể chất", "Đạt", "Đạt", "Đạt"),
                ),
            ),
        ),
        summary=(("Số buổi nghỉ học", "3"), ("Được lên lớp", "Có"), ("Danh hiệu", "Học sinh Giỏi")),
        signatories=(
            Signatory("HOMEROOM_TEACHER", "Giáo viên chủ nhiệm", "Trần Văn Hùng"),
            Signatory("PRINCIPAL", "Hiệu trưởng", "Lê Thị Thu Hà"),
        ),
        issued_on=date(2026, 5, 30),
        verification_url=f"https://school.example/verify/transcripts/{TRANSCRIPT_ID}?c=K7Q2-9XPM",
    )


@dataclass(frozen=True)
class Signed:
    ca: DevCA
    pdf: bytes
    xml: bytes


async def _sign(ca_dir: Path) -> tuple[bytes, bytes]:
    content = sample()
    return await sign_transcript(
        LocalSigner(ca_dir), content, render_pdf(content), render_xml(content), [TEACHER, PRINCIPAL], SCHOOL
    )


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def signed(tmp_path_factory: pytest.TempPathFactory) -> Signed:
    ca_dir = tmp_path_factory.mktemp("dev-ca")
    pdf, xml = await _sign(ca_dir)
    return Signed(ensure_dev_ca(ca_dir), pdf, xml)


def summary(verification: Verification) -> list[tuple[str, str, bool, bool, bool]]:
    return [(s.signer_name, s.kind, s.intact, s.trusted, s.covers_whole) for s in verification.signatures]


EXPECTED = [
    ("Trần Văn Hùng", "person", True, True, False),
    ("Lê Thị Thu Hà", "person", True, True, False),
    ("Trường THPT Nguyễn Thị Minh Khai", "institution", True, True, True),
]


# ---------------------------------------------------------------- the happy path


def test_signed_pdf_verifies_with_three_signatures_in_order(signed: Signed) -> None:
    result = verify_pdf(signed.pdf, signed.ca.trust_roots())
    assert result.valid
    assert summary(result) == EXPECTED
    assert all(s.signed_at is not None for s in result.signatures)
    names = [s.field_name for s in PdfFileReader(io.BytesIO(signed.pdf)).embedded_regular_signatures]
    assert names == ["Sig1_HomeroomTeacher", "Sig2_Principal", "Sig3_Institution"]


def test_signed_xml_verifies_with_three_signatures_in_order(signed: Signed) -> None:
    result = verify_xml(signed.xml, signed.ca.trust_roots())
    assert result.valid
    assert summary(result) == EXPECTED
    assert all(s.signed_at is not None for s in result.signatures)
    assert parse_xml(signed.xml) == sample()  # the signatures do not disturb the content


def test_pyhanko_accepts_the_pdf_on_its_own(signed: Signed) -> None:
    root = load_cert_from_pemder(str(signed.ca.root_certificate_path))
    context = ValidationContext(trust_roots=[root], allow_fetching=False)
    embedded = PdfFileReader(io.BytesIO(signed.pdf)).embedded_regular_signatures
    assert len(embedded) == 3
    for signature in embedded:
        status = validate_pdf_signature(signature, context)
        assert status.bottom_line, status.pretty_print_details()
        assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
        assert status.md_algorithm == "sha256"
    assert status.coverage.name == "ENTIRE_FILE"
    assert status.signing_cert.subject.native["common_name"] == SCHOOL.display_name


def test_signxml_accepts_every_xml_signature_on_its_own(signed: Signed) -> None:
    ca_file = str(signed.ca.root_certificate_path)
    expected_references = {1: 2, 2: 2, 3: 4}  # content + own info; the school adds both earlier slots
    for n, count in expected_references.items():
        config = SignatureConfiguration(location=f"./{N}ChuKy[@Id='chu-ky-{n}']/", expect_references=count)
        results = XMLVerifier().verify(signed.xml, ca_pem_file=ca_file, expect_config=config)
        assert isinstance(results, list)
        content = results[0].signed_xml
        assert content is not None
        assert content.get("Id") == "noi-dung"
        assert content.findtext(f"{N}HocSinh/{N}HoTen") == "Nguyễn Thị Ánh Dương"
    # The institution's signature covers the individual signatures themselves.
    config = SignatureConfiguration(location=f"./{N}ChuKy[@Id='chu-ky-3']/", expect_references=4)
    signed_slots = XMLVerifier().verify(signed.xml, ca_pem_file=ca_file, expect_config=config)
    assert isinstance(signed_slots, list)
    assert [r.signed_xml.get("Id") for r in signed_slots[1:3] if r.signed_xml is not None] == [
        "chu-ky-1",
        "chu-ky-2",
    ]
    assert signed_slots[1].signed_xml is not None
    assert signed_slots[1].signed_xml.find(f"{DS}Signature/{DS}SignatureValue") is not None


async def test_verification_runs_off_the_event_loop(signed: Signed) -> None:
    result = await asyncio.to_thread(verify_pdf, signed.pdf, signed.ca.trust_roots())
    assert result.valid


# ---------------------------------------------------------------- tampering


def _signed_range(pdf: bytes) -> list[int]:
    first = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", pdf)
    assert first is not None
    return [int(x) for x in first.groups()]


def test_one_changed_byte_in_the_pdf_breaks_every_signature(signed: Signed) -> None:
    # The transcript id is printed in the (uncompressed) document information of the first revision.
    offset = signed.pdf.index(TRANSCRIPT_ID.encode())
    a, b, c, d = _signed_range(signed.pdf)
    assert a <= offset < a + b or c <= offset < c + d
    original = signed.pdf[offset : offset + 1]
    tampered = signed.pdf[:offset] + (b"8" if original != b"8" else b"7") + signed.pdf[offset + 1 :]

    result = verify_pdf(tampered, signed.ca.trust_roots())
    assert not result.valid
    assert [s.intact for s in result.signatures] == [False, False, False]

    root = load_cert_from_pemder(str(signed.ca.root_certificate_path))
    context = ValidationContext(trust_roots=[root], allow_fetching=False)
    for signature in PdfFileReader(io.BytesIO(tampered)).embedded_regular_signatures:
        status = validate_pdf_signature(signature, context)
        assert not status.intact
        assert not status.bottom_line


def test_one_changed_character_in_the_xml_breaks_every_signature(signed: Signed) -> None:
    tampered = signed.xml.replace(b"<O>8,3</O>", b"<O>9,3</O>", 1)
    assert tampered != signed.xml
    result = verify_xml(tampered, signed.ca.trust_roots())
    assert not result.valid
    assert [s.intact for s in result.signatures] == [False, False, False]
    assert [s.trusted for s in result.signatures] == [True, True, True]
    for n in (1, 2, 3):
        config = SignatureConfiguration(location=f"./{N}ChuKy[@Id='chu-ky-{n}']/", expect_references=True)
        with pytest.raises((InvalidDigest, InvalidSignature)):
            XMLVerifier().verify(
                tampered, ca_pem_file=str(signed.ca.root_certificate_path), expect_config=config
            )


def _rewrite(xml: bytes, change: Callable[[Any], None]) -> bytes:
    root = etree.fromstring(xml)
    change(root)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def test_a_forged_individual_signature_breaks_the_institution_seal_too(signed: Signed) -> None:
    def forge(root: Any) -> None:
        value = root.find(f"{N}ChuKy/{DS}Signature/{DS}SignatureValue")
        value.text = value.text[:10] + ("A" if value.text[10] != "A" else "B") + value.text[11:]

    result = verify_xml(_rewrite(signed.xml, forge), signed.ca.trust_roots())
    assert not result.valid
    assert [s.intact for s in result.signatures] == [False, True, False]


def test_xml_without_the_institution_signature_is_not_valid(signed: Signed) -> None:
    def drop_last(root: Any) -> None:
        root.remove(root.findall(f"{N}ChuKy")[-1])

    result = verify_xml(_rewrite(signed.xml, drop_last), signed.ca.trust_roots())
    assert not result.valid
    assert [s.kind for s in result.signatures] == ["person", "person"]


def test_xml_with_unsigned_additions_is_not_covered(signed: Signed) -> None:
    def add(root: Any) -> None:
        etree.SubElement(root, f"{N}GhiChu").text = "thêm sau khi ký"

    result = verify_xml(_rewrite(signed.xml, add), signed.ca.trust_roots())
    assert not result.valid
    assert [s.intact for s in result.signatures] == [True, True, True]
    assert not result.signatures[-1].covers_whole


def test_unsigned_update_after_the_institution_signature_is_not_valid(signed: Signed) -> None:
    writer = IncrementalPdfFileWriter(io.BytesIO(signed.pdf))
    writer.add_object(
        generic.DictionaryObject({generic.NameObject("/Note"): generic.TextStringObject("sau khi ký")})
    )
    out = io.BytesIO()
    writer.write(out)
    appended = out.getvalue()
    assert appended.startswith(signed.pdf)
    assert len(appended) > len(signed.pdf)

    result = verify_pdf(appended, signed.ca.trust_roots())
    assert not result.valid
    assert [s.intact for s in result.signatures] == [True, True, True]
    assert [s.covers_whole for s in result.signatures] == [False, False, False]


async def test_signatures_from_another_ca_are_not_trusted(signed: Signed, tmp_path: Path) -> None:
    pdf, xml = await _sign(tmp_path / "other-ca")
    other = ensure_dev_ca(tmp_path / "other-ca")
    assert other.root_certificate != signed.ca.root_certificate

    for result in await asyncio.gather(
        asyncio.to_thread(verify_pdf, pdf, signed.ca.trust_roots()),
        asyncio.to_thread(verify_xml, xml, signed.ca.trust_roots()),
    ):
        assert not result.valid
        assert [(s.intact, s.trusted) for s in result.signatures] == [(True, False)] * 3
    with pytest.raises(InvalidCertificate):
        XMLVerifier().verify(
            xml,
            ca_pem_file=str(signed.ca.root_certificate_path),
            expect_config=SignatureConfiguration(
                location=f"./{N}ChuKy[@Id='chu-ky-1']/", expect_references=2
            ),
        )
    # ... and they are trusted by their own root.
    assert (await asyncio.to_thread(verify_pdf, pdf, other.trust_roots())).valid
    assert (await asyncio.to_thread(verify_xml, xml, other.trust_roots())).valid


# ---------------------------------------------------------------- misuse


async def test_signers_must_be_the_content_signatories(tmp_path: Path) -> None:
    content = sample()
    pdf, xml = render_pdf(content), render_xml(content)
    signer = LocalSigner(tmp_path)
    stranger = SigningIdentity("person", "kc|ffff", "Phạm Văn Khác")
    with pytest.raises(InvalidArgument):
        await sign_transcript(signer, content, pdf, xml, [stranger, PRINCIPAL], SCHOOL)
    with pytest.raises(InvalidArgument):
        await sign_transcript(signer, content, pdf, xml, [TEACHER], SCHOOL)
    with pytest.raises(InvalidArgument):
        await sign_transcript(signer, content, pdf, xml, [TEACHER, PRINCIPAL], PRINCIPAL)
    with pytest.raises(InvalidArgument):  # the XML is not this content
        await sign_transcript(signer, content, pdf, xml.replace(b"8,3", b"9,3"), [TEACHER, PRINCIPAL], SCHOOL)


def test_nobody_signs_after_the_institution(signed: Signed) -> None:
    credential = signed.ca.credential(TEACHER)
    with pytest.raises(InvalidArgument):
        add_xml_signature(signed.xml, "person", credential.key, [credential.certificate])


# ---------------------------------------------------------------- the development CA


def test_dev_ca_is_idempotent_and_issues_one_certificate_per_identity(tmp_path: Path) -> None:
    first = ensure_dev_ca(tmp_path / "ca")
    second = ensure_dev_ca(tmp_path / "ca")
    assert first.root_certificate == second.root_certificate
    common_name = first.root_certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    assert common_name[0].value == ROOT_COMMON_NAME
    assert stat.S_IMODE(os.stat(tmp_path / "ca" / ROOT_KEY_FILE).st_mode) == 0o600

    teacher, school = first.credential(TEACHER), first.credential(SCHOOL)
    assert teacher.certificate != school.certificate
    assert second.credential(TEACHER).certificate == teacher.certificate
    assert teacher.certificate.subject.get_attributes_for_oid(x509.NameOID.USER_ID)[0].value == TEACHER.key
    assert school.certificate.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)[0].value == (
        SCHOOL.display_name
    )
    usage = teacher.certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature
    assert usage.content_commitment
    key_files = list((tmp_path / "ca" / "identities").glob("*.key"))
    assert len(key_files) == 2
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in key_files)


def test_dev_ca_survives_concurrent_creation(tmp_path: Path) -> None:
    directory = tmp_path / "ca"
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "student_record.transcripts.devca", str(directory)], stdout=subprocess.PIPE
        )
        for _ in range(3)
    ]
    outputs = {p.communicate(timeout=60)[0].strip() for p in processes}
    assert all(p.returncode == 0 for p in processes)
    assert outputs == {str((directory / "root-ca.pem").resolve()).encode()}
    ca = ensure_dev_ca(directory)  # raises if the key and the certificate do not belong together

    certificates: list[x509.Certificate] = []
    threads = [
        threading.Thread(target=lambda: certificates.append(ca.credential(TEACHER).certificate))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(certificates) == 8
    assert len(set(certificates)) == 1
    assert not [p for p in directory.rglob("*") if p.name.endswith(".tmp")]


async def test_local_signer_tasks_share_one_certificate_per_identity(tmp_path: Path) -> None:
    signer = LocalSigner(tmp_path)
    xml = render_xml(sample())
    first, second = await asyncio.gather(signer.sign_xml(xml, TEACHER), signer.sign_xml(xml, TEACHER))
    path = f"{N}ChuKy/{DS}Signature/{DS}KeyInfo/{DS}X509Data/{DS}X509Certificate"
    assert etree.fromstring(first).findtext(path) == etree.fromstring(second).findtext(path)


def test_cli_prints_the_root_certificate_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main([str(tmp_path / "cli")])
    assert capsys.readouterr().out.strip() == str((tmp_path / "cli" / "root-ca.pem").resolve())


async def test_outside_development_no_development_key_signs(tmp_path: Path) -> None:
    from school_common.errors import FailedPrecondition
    from student_record.transcripts.signing import LocalSigner, NoSigner, signer_for, trust_roots_for

    assert isinstance(signer_for("development", tmp_path), LocalSigner)
    production = signer_for("production", tmp_path)
    assert isinstance(production, NoSigner)
    with pytest.raises(FailedPrecondition) as caught:
        await production.sign_xml(b"<x/>", SigningIdentity("institution", "school", "Trường"))
    assert caught.value.reason == "SIGNER_NOT_CONFIGURED"
    assert await trust_roots_for("production", tmp_path)() == ()  # a development signature is not valid
    assert not os.listdir(tmp_path)  # no key was created
    development = trust_roots_for("development", tmp_path)
    assert await development() == (await development())
    assert len(await development()) == 1
