"""Sign a transcript's PDF (PAdES B-B) and XML (XML-DSig), and verify both.

Order (DOMAIN.md): the responsible individuals sign first, in the order the content names them, then the
institution signs last; the status change follows elsewhere. Each signature is added on its own:

- PDF: one incremental update per signature, each in its own field ``Sig<n>_<Role>`` (``Sig<n>_Institution``
  for the institution), subfilter ETSI.CAdES.detached, SHA-256, no timestamp authority.
- XML: one ``ChuKy`` slot per signature after the ``NoiDung`` content element. The slot holds a
  ``ThongTinKy`` element (kind, signing time) and an enveloped ``ds:Signature`` whose references are the
  content (``#noi-dung``) and the slot's own ``ThongTinKy``; the institution's signature also references
  every earlier slot, individual signatures included. Every signature verifies on its own with signxml.

The :class:`Signer` protocol is where production plugs in a hardware token, an HSM or a remote signing
service; :class:`LocalSigner` signs with keys from the development CA. Both reuse :func:`pades_sign` and
:func:`add_xml_signature`, which only need a pyHanko CMS signer or a private-key object respectively.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import io
import re
import tempfile
import unicodedata
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from lxml import etree
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore
from school_common.errors import FailedPrecondition, InvalidArgument, bilingual
from signxml import (
    CanonicalizationMethod,
    DigestAlgorithm,
    SignatureConfiguration,
    SignatureMethod,
    XMLSigner,
    XMLVerifier,
)
from signxml.exceptions import InvalidCertificate, SignXMLException
from signxml.util import X509CertChainVerifier

from student_record.transcripts.content import NAMESPACE, TranscriptContent
from student_record.transcripts.devca import Credential, DevCA, ensure_dev_ca
from student_record.transcripts.render import CONTENT_ID, parse_xml, xml_parser

IdentityKind = Literal["person", "institution"]

DS = "http://www.w3.org/2000/09/xmldsig#"
_N = f"{{{NAMESPACE}}}"
_DS = f"{{{DS}}}"
_EXC_C14N = CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0


@dataclass(frozen=True)
class SigningIdentity:
    """Who signs: a person (``key`` = account subject) or an institution (``key`` = school id)."""

    kind: IdentityKind
    key: str
    display_name: str


class Signer(Protocol):
    """Adds one signature to a document. Implementations must not block the event loop."""

    async def sign_pdf(self, pdf: bytes, identity: SigningIdentity, field_name: str, reason: str) -> bytes:
        """Return ``pdf`` with one more PAdES signature in a new field ``field_name`` (incremental update)."""
        ...

    async def sign_xml(self, xml: bytes, identity: SigningIdentity) -> bytes:
        """Return ``xml`` with one more signature slot (see :func:`add_xml_signature`)."""
        ...


@dataclass(frozen=True)
class SignatureCheck:
    signer_name: str  # the certificate's common name
    kind: str  # "person" | "institution", as the signature itself declares it
    intact: bool  # the signed data is unchanged (and, PDF, later updates only add signatures)
    trusted: bool  # the certificate chains to a trust root and is valid now
    signed_at: dt.datetime | None  # the time the signer claims (no timestamp authority)
    covers_whole: bool  # nothing in the document lies outside this signature


@dataclass(frozen=True)
class Verification:
    valid: bool
    signatures: tuple[SignatureCheck, ...]


# ---------------------------------------------------------------- signing blocks


def pades_sign(pdf: bytes, cms_signer: signers.Signer, field_name: str, reason: str) -> bytes:
    """Add a PAdES B-B signature (invisible field ``field_name``) as an incremental update. Blocking."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
    )
    pdf_signer = signers.PdfSigner(meta, cms_signer, new_field_spec=fields.SigFieldSpec(field_name))
    output = pdf_signer.sign_pdf(writer)
    return bytes(output.getvalue())


def _signature_method(key: object) -> SignatureMethod:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return {
            256: SignatureMethod.ECDSA_SHA256,
            384: SignatureMethod.ECDSA_SHA384,
            521: SignatureMethod.ECDSA_SHA512,
        }[key.curve.key_size]
    if isinstance(key, rsa.RSAPrivateKey):
        return SignatureMethod.RSA_SHA256
    raise TypeError(f"unsupported key type {type(key).__name__}")


def _slot_id(n: int) -> str:
    return f"chu-ky-{n}"


def _info_id(n: int) -> str:
    return f"chu-ky-{n}-thong-tin"


def _utc_text(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def add_xml_signature(
    xml: bytes,
    kind: IdentityKind,
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey,
    certificates: Sequence[x509.Certificate],
    signed_at: dt.datetime | None = None,
) -> bytes:
    """Append slot ``ChuKy`` n+1 and sign it (enveloped XML-DSig, exclusive C14N, SHA-256). Blocking.

    ``key`` is a pyca/cryptography EC or RSA private key, or an implementation of those interfaces that
    signs elsewhere (HSM, remote service). ``certificates``: the signer's certificate first, then
    intermediates; they go into ``KeyInfo``.
    """
    root = etree.fromstring(xml, xml_parser())
    slots = root.findall(_N + "ChuKy")
    if any(_slot_kind(slot) == "institution" for slot in slots):
        raise InvalidArgument(
            "TRANSCRIPT_ALREADY_SEALED",
            bilingual(
                "Nhà trường đã ký, không thể ký thêm", "the institution has signed; no more signatures"
            ),
        )
    n = len(slots) + 1
    slot = etree.SubElement(root, _N + "ChuKy", {"Id": _slot_id(n)})
    info = etree.SubElement(slot, _N + "ThongTinKy", {"Id": _info_id(n)})
    etree.SubElement(info, _N + "Loai").text = kind
    etree.SubElement(info, _N + "ThoiDiemKy").text = _utc_text(signed_at or dt.datetime.now(dt.UTC))
    # signxml fills the placeholder in place, which decides where the signature lives.
    etree.SubElement(slot, _DS + "Signature", {"Id": "placeholder"}, nsmap={"ds": DS})
    references = [f"#{CONTENT_ID}"]
    if kind == "institution":
        references += [f"#{_slot_id(i)}" for i in range(1, n)]
    references.append(f"#{_info_id(n)}")
    signer = XMLSigner(
        signature_algorithm=_signature_method(key),
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=_EXC_C14N,
    )
    # Exclusive C14N: a signature's SignedInfo does not depend on the namespaces in scope around it.
    signed = signer.sign(root, key=key, cert=list(certificates), reference_uri=references, id_attribute="Id")
    return bytes(etree.tostring(signed, xml_declaration=True, encoding="UTF-8"))


# ---------------------------------------------------------------- local (development) signer


def _asn1_cert(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


class LocalSigner:
    """Signs with keys of the development CA in ``ca_dir`` (created on first use). NOT FOR PRODUCTION."""

    def __init__(self, ca_dir: Path) -> None:
        self.ca_dir = Path(ca_dir)
        self._ca: DevCA | None = None

    def _credential(self, identity: SigningIdentity) -> Credential:
        if self._ca is None:
            self._ca = ensure_dev_ca(self.ca_dir)
        return self._ca.credential(identity)

    def _sign_pdf(self, pdf: bytes, identity: SigningIdentity, field_name: str, reason: str) -> bytes:
        credential = self._credential(identity)
        der_key = credential.key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        cms_signer = signers.SimpleSigner(
            signing_cert=_asn1_cert(credential.certificate),
            signing_key=asn1_keys.PrivateKeyInfo.load(der_key),
            cert_registry=SimpleCertificateStore.from_certs([_asn1_cert(c) for c in credential.chain]),
        )
        return pades_sign(pdf, cms_signer, field_name, reason)

    def _sign_xml(self, xml: bytes, identity: SigningIdentity) -> bytes:
        credential = self._credential(identity)
        intermediates = [c for c in credential.chain if c.issuer != c.subject]
        return add_xml_signature(xml, identity.kind, credential.key, [credential.certificate, *intermediates])

    async def sign_pdf(self, pdf: bytes, identity: SigningIdentity, field_name: str, reason: str) -> bytes:
        return await asyncio.to_thread(self._sign_pdf, pdf, identity, field_name, reason)

    async def sign_xml(self, xml: bytes, identity: SigningIdentity) -> bytes:
        return await asyncio.to_thread(self._sign_xml, xml, identity)


# ---------------------------------------------------------------- the transcript


def _same_name(a: str, b: str) -> bool:
    def norm(s: str) -> str:
        return " ".join(unicodedata.normalize("NFC", s).casefold().split())

    return norm(a) == norm(b)


def field_name(position: int, role: str) -> str:
    """``Sig1_HomeroomTeacher``, ``Sig3_Institution``: the PDF field of the n-th signature."""
    return f"Sig{position}_" + "".join(part.capitalize() for part in role.split("_"))


def _refuse(reason: str, vi: str, en: str) -> InvalidArgument:
    return InvalidArgument(reason, bilingual(vi, en))


async def sign_transcript(
    signer: Signer,
    content: TranscriptContent,
    pdf: bytes,
    xml: bytes,
    individuals: Sequence[SigningIdentity],
    institution: SigningIdentity,
) -> tuple[bytes, bytes]:
    """Sign both documents: each individual in the content's order, then the institution.

    ``individuals`` must be the content's signatories (same order, same names); ``xml`` must be the
    unsigned rendering of ``content``. Returns ``(signed_pdf, signed_xml)``.
    """
    if len(individuals) != len(content.signatories):
        raise _refuse(
            "SIGNATORIES_MISMATCH",
            f"Cần {len(content.signatories)} người ký, nhận {len(individuals)}",
            f"expected {len(content.signatories)} individual signers, got {len(individuals)}",
        )
    for person, signatory in zip(individuals, content.signatories, strict=True):
        if person.kind != "person" or not _same_name(person.display_name, signatory.full_name):
            raise _refuse(
                "SIGNATORIES_MISMATCH",
                f"Người ký {person.display_name} không phải {signatory.title} {signatory.full_name}",
                f"signer {person.display_name} is not the {signatory.role} {signatory.full_name}",
            )
    if institution.kind != "institution":
        raise _refuse(
            "SIGNATORIES_MISMATCH", "Chữ ký cuối phải của nhà trường", "the last signer is the school"
        )
    try:
        unsigned = (
            etree.fromstring(xml, xml_parser()).find(_N + "ChuKy") is None and parse_xml(xml) == content
        )
    except (etree.XMLSyntaxError, InvalidArgument):
        unsigned = False
    if not unsigned:
        raise _refuse(
            "TRANSCRIPT_XML_MISMATCH",
            "Tệp XML không phải bản chưa ký của nội dung học bạ",
            "the XML is not the unsigned rendering of this content",
        )
    steps = [
        (person, field_name(i, s.role), f"{s.title} ký học bạ")
        for i, (person, s) in enumerate(zip(individuals, content.signatories, strict=True), start=1)
    ]
    steps.append((institution, field_name(len(steps) + 1, "INSTITUTION"), "Nhà trường xác nhận học bạ"))
    for identity, name, reason in steps:
        pdf = await signer.sign_pdf(pdf, identity, name, reason)
        xml = await signer.sign_xml(xml, identity)
    return pdf, xml


# ---------------------------------------------------------------- verification


def _kind_of_field(name: str) -> str:
    return "institution" if re.fullmatch(r"Sig\d+_Institution", name) else "person"


def _overall(checks: Sequence[SignatureCheck]) -> bool:
    kinds = [c.kind for c in checks]
    return (
        len(checks) >= 1
        and all(c.intact and c.trusted for c in checks)
        and kinds.count("institution") == 1
        and kinds[-1] == "institution"
        and checks[-1].covers_whole
    )


def verify_pdf(pdf: bytes, trust_roots: Sequence[x509.Certificate]) -> Verification:
    """Check every PAdES signature with pyHanko against ``trust_roots`` (no fetching, soft revocation).

    Blocking, and it runs its own event loop: from async code call it through ``asyncio.to_thread``.
    """
    context = ValidationContext(
        trust_roots=[_asn1_cert(c) for c in trust_roots], allow_fetching=False, revocation_mode="soft-fail"
    )
    try:
        embedded = PdfFileReader(io.BytesIO(pdf)).embedded_regular_signatures
    except Exception:  # a damaged file is an invalid one, whatever the parser's complaint
        return Verification(False, ())
    checks = []
    for signature in embedded:
        kind = _kind_of_field(signature.field_name)
        try:
            status = validate_pdf_signature(signature, context)
        except Exception:
            checks.append(SignatureCheck(signature.field_name, kind, False, False, None, False))
            continue
        checks.append(
            SignatureCheck(
                signer_name=str(status.signing_cert.subject.native.get("common_name", "")),
                kind=kind,
                intact=bool(status.intact and status.valid and status.docmdp_ok is not False),
                # pyHanko's own ``trusted`` also requires integrity; here the two are reported apart.
                trusted=status.validation_path is not None and status.trust_problem_indic is None,
                signed_at=status.signer_reported_dt,
                covers_whole=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
            )
        )
    return Verification(_overall(checks), tuple(checks))


def _slot_kind(slot: etree._Element) -> str:
    return slot.findtext(f"{_N}ThongTinKy/{_N}Loai") or ""


def _slot_time(slot: etree._Element) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(
            slot.findtext(f"{_N}ThongTinKy/{_N}ThoiDiemKy") or "", "%Y-%m-%dT%H:%M:%SZ"
        ).replace(tzinfo=dt.UTC)
    except ValueError:
        return None


def _slot_certificates(slot: etree._Element) -> list[x509.Certificate]:
    texts = slot.findall(f"{_DS}Signature/{_DS}KeyInfo/{_DS}X509Data/{_DS}X509Certificate")
    return [x509.load_der_x509_certificate(base64.b64decode(t.text or "")) for t in texts]


def _common_name(certificate: x509.Certificate) -> str:
    names = certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return str(names[0].value) if names else certificate.subject.rfc4514_string()


def _check_slot(xml: bytes, root: etree._Element, n: int, ca_file: str) -> SignatureCheck:
    slots = root.findall(_N + "ChuKy")
    slot = slots[n - 1]
    kind, signed_at = _slot_kind(slot), _slot_time(slot)
    try:
        certificates = _slot_certificates(slot)
    except ValueError:  # binascii.Error included
        certificates = []
    if slot.get("Id") != _slot_id(n) or not certificates:
        return SignatureCheck("", kind, False, False, signed_at, False)
    try:
        leaf = X509CertChainVerifier(ca_pem_file=ca_file).verify(certificates)
        trusted = True
    except (InvalidCertificate, ValueError):
        leaf, trusted = certificates[0], False
    location = f"./{_N}ChuKy[@Id='{_slot_id(n)}']/"
    # Integrity does not depend on when the certificate is valid; trust (above) is judged now.
    config = SignatureConfiguration(
        location=location, expect_references=True, verification_time=leaf.not_valid_before_utc
    )
    try:
        XMLVerifier().verify(xml, x509_cert=leaf, expect_config=config, id_attribute="Id")
        intact = True
    except (SignXMLException, ValueError, etree.LxmlError):
        intact = False
    # SignedInfo was verified above, so its references say what the signature covers.
    references = [r.get("URI") for r in slot.findall(f"{_DS}Signature/{_DS}SignedInfo/{_DS}Reference")]
    own = {f"#{CONTENT_ID}", f"#{_info_id(n)}"}
    intact = intact and own <= set(references)
    others = {f"#{_slot_id(i)}" for i in range(1, len(slots) + 1) if i != n}
    covers_whole = intact and (own | others) <= set(references) and _only_known_parts(root)
    return SignatureCheck(_common_name(leaf), kind, intact, trusted, signed_at, covers_whole)


def _only_known_parts(root: etree._Element) -> bool:
    """Nothing outside the signed elements but the root's attributes (which parse_xml checks)."""
    children = [c for c in root if isinstance(c.tag, str)]
    if (
        not children
        or children[0].tag != _N + "NoiDung"
        or set(root.attrib) - {"id", "version", "supersedes"}
    ):
        return False
    for slot in children[1:]:
        parts = [c.tag for c in slot if isinstance(c.tag, str)]
        if (
            slot.tag != _N + "ChuKy"
            or parts != [_N + "ThongTinKy", _DS + "Signature"]
            or set(slot.attrib) != {"Id"}
        ):
            return False
    return True


def verify_xml(xml: bytes, trust_roots: Sequence[x509.Certificate]) -> Verification:
    """Check every XML-DSig signature of a transcript with signxml against ``trust_roots``. Blocking."""
    try:
        parse_xml(xml)  # the content is readable and the root's attributes agree with it
    except (etree.XMLSyntaxError, InvalidArgument):
        return Verification(False, ())
    return verify_xml_signatures(xml, trust_roots)


def verify_xml_signatures(xml: bytes, trust_roots: Sequence[x509.Certificate]) -> Verification:
    """Check every signature slot (``ChuKy``) of a document in this namespace whose content is the
    ``noi-dung`` element — a transcript, or a record package sent with a transfer. Blocking."""
    try:
        root = etree.fromstring(xml, xml_parser())
    except etree.XMLSyntaxError:
        return Verification(False, ())
    slots = root.findall(_N + "ChuKy")
    with tempfile.TemporaryDirectory() as folder:
        # signxml reads trust roots from a PEM file.
        ca_file = Path(folder) / "trust-roots.pem"
        ca_file.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in trust_roots))
        checks = tuple(_check_slot(xml, root, n, str(ca_file)) for n in range(1, len(slots) + 1))
    return Verification(_overall(checks), checks)


class NoSigner:
    """Where no signer is configured (production without its remote signer or HSM): issuing refuses with
    ``SIGNER_NOT_CONFIGURED`` rather than sign with a development key that nobody should trust."""

    @staticmethod
    def _refuse() -> FailedPrecondition:
        return FailedPrecondition(
            "SIGNER_NOT_CONFIGURED",
            bilingual(
                "Chưa cấu hình chữ ký số của trường; không thể phát hành học bạ",
                "no signer is configured; transcripts cannot be issued",
            ),
        )

    async def sign_pdf(self, pdf: bytes, identity: SigningIdentity, field_name: str, reason: str) -> bytes:
        raise self._refuse()

    async def sign_xml(self, xml: bytes, identity: SigningIdentity) -> bytes:
        raise self._refuse()


DEVELOPMENT = ("development", "test")


def signer_for(environment: str, ca_dir: Path) -> Signer:
    """The development CA's ``LocalSigner`` in development and test; nothing elsewhere until a remote
    signer is plugged in."""
    if environment in DEVELOPMENT:
        return LocalSigner(ca_dir)
    return NoSigner()


def trust_roots_for(environment: str, ca_dir: Path) -> Callable[[], Awaitable[tuple[x509.Certificate, ...]]]:
    """What verification trusts: the development CA's root in development and test (read once), nothing
    elsewhere, so a development signature never verifies as valid in production."""
    cached: list[tuple[x509.Certificate, ...]] = []

    async def trust_roots() -> tuple[x509.Certificate, ...]:
        if environment not in DEVELOPMENT:
            return ()
        if not cached:
            cached.append(tuple((await asyncio.to_thread(ensure_dev_ca, ca_dir)).trust_roots()))
        return cached[0]

    return trust_roots
