"""A development certificate authority, so that transcripts can be signed and verified on one machine.

NOT FOR PRODUCTION: keys lie unencrypted on disk (mode 0600). Production signs with government CA
certificates on hardware tokens, an HSM or a remote signing service (see ``signing.Signer``).

Layout of the directory::

    root-ca.pem, root-ca.key          the root (EC P-256, ten years)
    identities/<kind>-<hash>.pem/.key one leaf per signing identity, <hash> = SHA-256 of kind and key

Creation happens under an exclusive ``flock`` on ``.lock`` and every file is written to a temporary name
and renamed into place, so concurrent callers (threads, processes) never see half-written or mismatched
files and all of them get the same certificate for the same identity.

``python -m student_record.transcripts.devca DIR`` creates the CA and prints the root certificate's path.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import fcntl
import hashlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

if TYPE_CHECKING:
    from student_record.transcripts.signing import SigningIdentity

ROOT_COMMON_NAME = "School Platform Development CA (NOT FOR PRODUCTION)"
ROOT_CERT_FILE = "root-ca.pem"
ROOT_KEY_FILE = "root-ca.key"
DOCUMENT_SIGNING = ObjectIdentifier("1.3.6.1.5.5.7.3.36")  # id-kp-documentSigning, RFC 9336
ROOT_VALIDITY = dt.timedelta(days=3650)
LEAF_VALIDITY = dt.timedelta(days=730)
RENEW_BEFORE = dt.timedelta(days=30)
_CLOCK_SKEW = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class Credential:
    """A signing key with its certificate and the issuers' certificates (root last)."""

    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    # flock locks belong to the open file description: each call opens the file anew, so this excludes
    # other threads of this process as well as other processes.
    with open(directory / ".lock", "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _write_atomic(path: Path, data: bytes, mode: int) -> None:
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _load_key(path: Path) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{path}: expected an EC private key")
    return key


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _matches(key: ec.EllipticCurvePrivateKey, certificate: x509.Certificate) -> bool:
    return key.public_key().public_numbers() == certificate.public_key().public_numbers()  # type: ignore[union-attr]


def _create_root(directory: Path) -> None:
    key = _new_key()
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, ROOT_COMMON_NAME),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "School Platform (development)"),
        ]
    )
    now = _now()
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _CLOCK_SKEW)
        .not_valid_after(now + ROOT_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .sign(key, hashes.SHA256())
    )
    # Key first: the certificate's presence is what says "the CA exists".
    _write_atomic(directory / ROOT_KEY_FILE, _key_pem(key), 0o600)
    _write_atomic(directory / ROOT_CERT_FILE, certificate.public_bytes(serialization.Encoding.PEM), 0o644)


def identity_file_stem(kind: str, key: str) -> str:
    """A file-name-safe, stable name for an identity: its kind and a hash of kind and key."""
    if kind not in ("person", "institution"):
        raise ValueError(f"unknown identity kind {kind!r}")
    digest = hashlib.sha256(f"{kind}\n{key}".encode()).hexdigest()
    return f"{kind}-{digest[:32]}"


class DevCA:
    """The development root and the leaf credentials it has issued, all under one directory."""

    def __init__(self, directory: Path, root_key: ec.EllipticCurvePrivateKey, root: x509.Certificate) -> None:
        self.directory = directory
        self._root_key = root_key
        self.root_certificate = root

    @property
    def root_certificate_path(self) -> Path:
        return self.directory / ROOT_CERT_FILE

    def trust_roots(self) -> tuple[x509.Certificate, ...]:
        """What ``verify_pdf`` / ``verify_xml`` take as ``trust_roots``."""
        return (self.root_certificate,)

    def credential(self, identity: SigningIdentity) -> Credential:
        """The identity's key and certificate, issued on first use (blocking: file I/O and key generation).

        A certificate is re-issued when the display name changed or it is about to expire.
        """
        stem = identity_file_stem(identity.kind, identity.key)
        folder = self.directory / "identities"
        cert_path, key_path = folder / f"{stem}.pem", folder / f"{stem}.key"
        with _locked(self.directory):
            if cert_path.exists() and key_path.exists():
                certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
                key = _load_key(key_path)
                if self._still_good(certificate, key, identity):
                    return Credential(key, certificate, (self.root_certificate,))
            folder.mkdir(mode=0o700, exist_ok=True)
            key = _new_key()
            certificate = self._issue(identity, key)
            _write_atomic(key_path, _key_pem(key), 0o600)
            _write_atomic(cert_path, certificate.public_bytes(serialization.Encoding.PEM), 0o644)
            return Credential(key, certificate, (self.root_certificate,))

    def _still_good(
        self, certificate: x509.Certificate, key: ec.EllipticCurvePrivateKey, who: SigningIdentity
    ) -> bool:
        common_names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return (
            _matches(key, certificate)
            and certificate.issuer == self.root_certificate.subject
            and [a.value for a in common_names] == [who.display_name]
            and certificate.not_valid_after_utc - RENEW_BEFORE > _now()
        )

    def _issue(self, identity: SigningIdentity, key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
        attributes = [x509.NameAttribute(NameOID.COMMON_NAME, identity.display_name)]
        if identity.kind == "institution":
            attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, identity.display_name))
        attributes.append(x509.NameAttribute(NameOID.USER_ID, identity.key))
        now = _now()
        not_after = min(now + LEAF_VALIDITY, self.root_certificate.not_valid_after_utc)
        root_ski = self.root_certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        return (
            x509.CertificateBuilder()
            .subject_name(x509.Name(attributes))
            .issuer_name(self.root_certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _CLOCK_SKEW)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=True,  # a.k.a. nonRepudiation, which PAdES validators ask for
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION, DOCUMENT_SIGNING]),
                critical=False,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(root_ski), critical=False
            )
            .sign(self._root_key, hashes.SHA256())
        )


def ensure_dev_ca(directory: Path) -> DevCA:
    """Open the development CA in ``directory``, creating it the first time (idempotent, concurrency-safe)."""
    directory = Path(directory)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    with _locked(directory):
        if not (directory / ROOT_CERT_FILE).exists():
            _create_root(directory)
        root = x509.load_pem_x509_certificate((directory / ROOT_CERT_FILE).read_bytes())
        key = _load_key(directory / ROOT_KEY_FILE)
    if not _matches(key, root):
        raise ValueError(f"{directory}: {ROOT_KEY_FILE} does not belong to {ROOT_CERT_FILE}")
    return DevCA(directory, key, root)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Create (once) the development CA for transcript signing.")
    parser.add_argument("directory", type=Path)
    args = parser.parse_args(argv)
    ca = ensure_dev_ca(args.directory)
    print(ca.root_certificate_path.resolve())


if __name__ == "__main__":
    main()
