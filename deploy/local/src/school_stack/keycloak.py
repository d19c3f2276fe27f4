"""Keycloak for the one-machine stack (``make run``): distribution, process, realms.

The distribution zip comes from Maven Central (``org.keycloak:keycloak-quarkus-dist``) and is cached
outside the clone, in ``$SCHOOL_CACHE_DIR/keycloak`` (default ``~/.cache/school-platform/keycloak``), and
extracted there once. The cached extraction is never written to: Keycloak runs from a small *overlay
home* under ``run_dir`` (``<repo>/.run/data/keycloak/home``) whose ``lib/quarkus`` (the augmented build,
rewritten by ``start-dev`` when build options change), ``conf``, ``providers`` and ``data`` (H2
database, temp files) are real directories, and whose large read-only parts (``lib/lib``, ``lib/app``,
``themes``) are symbolic links into the cache. Deleting ``run_dir`` (``make clean``) resets Keycloak.

Realms are provisioned through the admin REST API from the realm-as-code files in ``deploy/keycloak``
(see ``docs/keycloak.md``): ``vneid`` (the VNeID stand-in), one ``tenant-<slug>`` per tenant and
``platform`` (the platform operator's). A missing realm is created whole; an existing one only gets what
it lacks (roles, clients, identity-provider mappers, users, authentication flows), so data persists
between runs.

Run it alone::

    .venv/bin/python -m school_stack.keycloak --out /tmp/kc.json  # start, provision, print
    .venv/bin/python -m school_stack.keycloak --stop              # same, then stop (timing, CI)
    .venv/bin/python -m school_stack.keycloak --render            # print the rendered realms only

Use from the stack supervisor::

    cfg = KeycloakConfig()
    home = await asyncio.to_thread(ensure_distribution, cfg)  # may download; blocking
    argv, env = command(cfg, home)                              # spawn in its own process group
    await wait_ready(cfg, timeout_s=300, on_tick=...)
    description = await provision(cfg, DEFAULT_TENANTS, dev=True)
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import unicodedata
import zipfile
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

__all__ = [
    "DEFAULT_TENANTS",
    "DEV_PASSWORD",
    "PLATFORM_REALM",
    "KeycloakConfig",
    "KeycloakError",
    "TenantSpec",
    "command",
    "ensure_distribution",
    "main",
    "provision",
    "render_platform_realm",
    "render_realms",
    "wait_ready",
]

KEYCLOAK_VERSION = "26.5.6"
REALM_PREFIX = "tenant-"
VNEID_REALM = "vneid"
VNEID_ALIAS = "vneid"
API_AUDIENCE = "school-api"
MOBILE_CLIENT = "school-mobile"
CONSOLE_CLIENT = "school-console"
PARTNERS_CLIENT = "school-partners"
DEV_CLI_CLIENT = "school-dev-cli"
#: The platform operator's realm (who creates tenants); its tokens carry no tenant.
PLATFORM_REALM = "platform"
#: Password of every demo user and demo citizen (also written in the deploy/keycloak/dev/ files, which
#: win). DEVELOPMENT ONLY: nothing but the one-machine stack reads deploy/keycloak/dev/.
DEV_PASSWORD = "Demo@2026"

_SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_PLACEHOLDER_RE = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")


def _repo_root() -> Path:
    # deploy/local/src/school_stack/keycloak.py -> repository root
    return Path(__file__).resolve().parents[4]


def realm_dir() -> Path:
    """Directory of the realm-as-code files (``deploy/keycloak``); env ``SCHOOL_KEYCLOAK_REALM_DIR``."""
    override = os.environ.get("SCHOOL_KEYCLOAK_REALM_DIR")
    return Path(override) if override else _repo_root() / "deploy" / "keycloak"


def default_cache_dir() -> Path:
    """``$SCHOOL_CACHE_DIR/keycloak``, default ``~/.cache/school-platform/keycloak``."""
    root = os.environ.get("SCHOOL_CACHE_DIR") or str(Path.home() / ".cache" / "school-platform")
    return Path(root).expanduser() / "keycloak"


class KeycloakError(RuntimeError):
    """Keycloak could not be downloaded, started or provisioned."""


@dataclass(frozen=True)
class TenantSpec:
    slug: str
    display_name: str

    def __post_init__(self) -> None:
        if not _SLUG_RE.match(self.slug):
            raise ValueError(f"tenant slug {self.slug!r} must be lowercase letters, digits and '-'")

    @property
    def realm(self) -> str:
        return f"{REALM_PREFIX}{self.slug}"


#: The tenants of the development stack; their demo users are in deploy/keycloak/dev/.
DEFAULT_TENANTS: tuple[TenantSpec, ...] = (
    TenantSpec("demo", "Sở GD&ĐT Thành phố Demo"),
    TenantSpec("other", "Sở GD&ĐT Tỉnh Khác"),
)


@dataclass(frozen=True)
class KeycloakConfig:
    cache_dir: Path = field(default_factory=default_cache_dir)
    run_dir: Path = field(default_factory=lambda: _repo_root() / ".run" / "data" / "keycloak")
    host: str = "127.0.0.1"
    port: int = 8180
    management_port: int = 18190
    admin_user: str = "admin"
    admin_password: str = "dev-only-admin"  # development stack only
    db_url: str | None = None
    db_user: str | None = None
    db_password: str | None = None
    version: str = KEYCLOAK_VERSION
    #: Where the tenant console runs (redirect URI of the ``school-console`` client).
    console_base_url: str = "http://127.0.0.1:8300"
    #: Extra JVM options appended to Keycloak's defaults (``JAVA_OPTS_APPEND``). C1-only JIT roughly
    #: halves the start on two cores, at some cost in peak throughput (fine for development).
    java_opts_append: str = "-XX:TieredStopAtLevel=1"

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def management_url(self) -> str:
        return f"http://{self.host}:{self.management_port}"

    @property
    def home(self) -> Path:
        """The overlay Keycloak home that runs (see the module docstring)."""
        return self.run_dir / "home"


# --------------------------------------------------------------------------------------------------
# Distribution
# --------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _zip_path(cfg: KeycloakConfig) -> Path:
    return cfg.cache_dir / f"keycloak-quarkus-dist-{cfg.version}.zip"


def _download(cfg: KeycloakConfig) -> Path:
    target = _zip_path(cfg)
    if target.is_file() and zipfile.is_zipfile(target):
        return target
    cfg.cache_dir.mkdir(parents=True, exist_ok=True)
    mvn = shutil.which("mvn")
    if mvn is None:
        raise KeycloakError(
            "Maven (mvn) is needed to download Keycloak "
            f"(org.keycloak:keycloak-quarkus-dist:{cfg.version}:zip); install it or place the zip at {target}"
        )
    artifact = f"org.keycloak:keycloak-quarkus-dist:{cfg.version}:zip"
    result = subprocess.run(
        [mvn, "-q", "-B", "dependency:copy", f"-Dartifact={artifact}", f"-DoutputDirectory={cfg.cache_dir}"],
        cwd=cfg.cache_dir,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 or not target.is_file():
        raise KeycloakError(f"downloading {artifact} failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return target


def _extract(cfg: KeycloakConfig, archive: Path) -> Path:
    dist = cfg.cache_dir / f"dist-{cfg.version}"
    if (dist / ".complete").is_file():
        return dist
    staging = cfg.cache_dir / f".extract-{cfg.version}-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    shutil.rmtree(dist, ignore_errors=True)
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(staging)
    inner = staging / f"keycloak-{cfg.version}"
    if not (inner / "bin" / "kc.sh").is_file():
        raise KeycloakError(f"{archive} does not look like a Keycloak distribution")
    for script in (inner / "bin").glob("*.sh"):
        script.chmod(0o755)
    inner.rename(dist)
    shutil.rmtree(staging, ignore_errors=True)
    (dist / ".complete").write_text(cfg.version + "\n")
    return dist


# Parts of the distribution that Keycloak writes to (or that must be real files so that kc.sh and
# the Quarkus runner resolve the home to the overlay): copied. Everything else: symlinked.
_COPIED = {"bin/kc.sh", "conf", "lib/quarkus", "lib/quarkus-run.jar", "providers", "version.txt"}
_REAL_DIRS = {"bin", "lib"}


def _prepare_home(cfg: KeycloakConfig, dist: Path) -> Path:
    home = cfg.home
    marker = home / ".dist"
    if marker.is_file() and marker.read_text().strip() != str(dist):
        # Another Keycloak version: rebuild the overlay but keep the data (Keycloak migrates it).
        for child in home.iterdir():
            if child.name != "data":
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    child.unlink()
    home.mkdir(parents=True, exist_ok=True)

    def link_tree(src_dir: Path, rel: str) -> None:
        for src in sorted(src_dir.iterdir()):
            name = f"{rel}/{src.name}" if rel else src.name
            dst = home / name
            if name in _REAL_DIRS:
                dst.mkdir(exist_ok=True)
                link_tree(src, name)
            elif name in _COPIED:
                if not dst.exists():
                    if src.is_dir():
                        shutil.copytree(src, dst, symlinks=True)
                    else:
                        shutil.copy2(src, dst)
            elif src.name.startswith("."):
                continue
            else:
                if dst.is_symlink() and os.readlink(dst) == str(src):
                    continue
                if dst.is_symlink() or dst.is_file():
                    dst.unlink()
                elif dst.is_dir():
                    shutil.rmtree(dst)
                dst.symlink_to(src)

    link_tree(dist, "")
    (home / "data").mkdir(exist_ok=True)
    marker.write_text(f"{dist}\n")
    return home


def ensure_distribution(cfg: KeycloakConfig) -> Path:
    """Download (``mvn dependency:copy``) and extract Keycloak into the cache if needed, prepare the
    overlay home under ``cfg.run_dir`` and return it (pass it to :func:`command`)."""
    cfg.cache_dir.mkdir(parents=True, exist_ok=True)
    with _file_lock(cfg.cache_dir / f".lock-{cfg.version}"):
        dist = _extract(cfg, _download(cfg))
    cfg.run_dir.mkdir(parents=True, exist_ok=True)
    with _file_lock(cfg.run_dir / ".lock"):
        home = _prepare_home(cfg, dist)
        _restore_build(cfg, home)
        return home


# --------------------------------------------------------------------------------------------------
# Process
# --------------------------------------------------------------------------------------------------


def command(cfg: KeycloakConfig, home: Path) -> tuple[list[str], dict[str, str]]:
    """argv and the complete environment of a foreground ``kc.sh start-dev`` process.

    The process runs in the foreground until signalled; ``kc.sh`` forwards SIGTERM/SIGINT to the JVM
    (kill its process group to be sure). Only loopback addresses are bound. The first start (or the
    first after a change of a build option such as the database vendor) re-augments the overlay's
    ``lib/quarkus``; later starts reuse it.
    """
    argv = [
        str(home / "bin" / "kc.sh"),
        "start-dev",
        f"--http-host={cfg.host}",
        f"--http-port={cfg.port}",
        f"--http-management-port={cfg.management_port}",
        # A fixed front-end URL: the issuer is the same whichever loopback name a client uses.
        f"--hostname={cfg.base_url}",
        "--health-enabled=true",
        "--metrics-enabled=false",
        "--cache=local",
        "--log=console",
        "--log-console-color=false",
        "--log-level=info,org.keycloak.events:warn",
    ]
    env = dict(os.environ)
    for key in list(env):
        # The parent's KC_* settings must not leak into the stack's Keycloak.
        if key.startswith(("KC_", "KEYCLOAK_", "QUARKUS_")):
            del env[key]
    if cfg.db_url:
        argv += ["--db=postgres", f"--db-url={cfg.db_url}"]
        if cfg.db_user:
            argv.append(f"--db-username={cfg.db_user}")
        if cfg.db_password:
            env["KC_DB_PASSWORD"] = cfg.db_password  # not on the command line (visible in ps)
    else:
        argv.append("--db=dev-file")
    env["KC_BOOTSTRAP_ADMIN_USERNAME"] = cfg.admin_user
    env["KC_BOOTSTRAP_ADMIN_PASSWORD"] = cfg.admin_password
    if cfg.java_opts_append:
        env["JAVA_OPTS_APPEND"] = cfg.java_opts_append
    java_home = env.get("JAVA_HOME")
    if not java_home or not Path(java_home, "bin", "java").exists():
        env.pop("JAVA_HOME", None)
    return argv, env


# The augmented build (``lib/quarkus``) depends only on the Keycloak version and the build options; it
# is saved in the cache after a successful start and restored into a fresh overlay, so that a start
# after ``make clean`` skips the ~15 s Quarkus augmentation.
_BUILD_OPTION_PREFIXES = ("--db=", "--health-enabled=", "--metrics-enabled=", "--cache=", "--features")


def _build_key(cfg: KeycloakConfig) -> str:
    argv, _ = command(cfg, cfg.home)
    options = sorted(arg for arg in argv if arg.startswith(_BUILD_OPTION_PREFIXES))
    digest = hashlib.sha256("\n".join([cfg.version, *options]).encode()).hexdigest()[:16]
    return f"{cfg.version}-{digest}"


def _restore_build(cfg: KeycloakConfig, home: Path) -> None:
    key = _build_key(cfg)
    marker = home / ".build"
    if marker.is_file() and marker.read_text().strip() == key:
        return
    cached = cfg.cache_dir / "builds" / key
    if not (cached / ".complete").is_file():
        return
    target = home / "lib" / "quarkus"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(cached, target, ignore=shutil.ignore_patterns(".complete"))
    marker.write_text(key + "\n")


def _save_build(cfg: KeycloakConfig) -> None:
    """Called once Keycloak is ready: its lib/quarkus now matches the current build options."""
    key = _build_key(cfg)
    (cfg.home / ".build").write_text(key + "\n")
    cached = cfg.cache_dir / "builds" / key
    if (cached / ".complete").is_file():
        return
    staging = cached.with_name(f".{key}-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        shutil.copytree(cfg.home / "lib" / "quarkus", staging)
        (staging / ".complete").write_text(key + "\n")
        shutil.rmtree(cached, ignore_errors=True)
        staging.rename(cached)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)


# --------------------------------------------------------------------------------------------------
# Readiness
# --------------------------------------------------------------------------------------------------

TickCallback = Callable[[float], "Awaitable[None] | None"]


async def wait_ready(cfg: KeycloakConfig, timeout_s: float, on_tick: TickCallback | None = None) -> None:
    """Poll ``/health/ready`` on the management port until Keycloak answers UP.

    ``on_tick(elapsed_seconds)`` (sync or async) is called about twice a second while waiting; raise
    from it to give up early (e.g. when the Keycloak process has exited). Raises ``TimeoutError``.
    Once ready, the augmented build is saved in the cache for the next cold start.
    """
    url = f"{cfg.management_url}/health/ready"
    started = time.monotonic()
    async with httpx.AsyncClient(timeout=2.0) as http:
        while True:
            elapsed = time.monotonic() - started
            try:
                response = await http.get(url)
                if response.status_code == 200 and response.json().get("status") == "UP":
                    break
            except (httpx.HTTPError, ValueError):
                pass
            if elapsed > timeout_s:
                raise TimeoutError(f"Keycloak not ready at {url} after {timeout_s:.0f}s")
            if on_tick is not None:
                result = on_tick(elapsed)
                if asyncio.iscoroutine(result):
                    await result
            await asyncio.sleep(0.5)
    with contextlib.suppress(OSError, KeycloakError):
        await asyncio.to_thread(_save_build, cfg)


# --------------------------------------------------------------------------------------------------
# Realms as code
# --------------------------------------------------------------------------------------------------

# ${NAME} that Keycloak itself interprets (identity-provider mapper templates) and must stay as is.
_KEYCLOAK_TEMPLATE_NAMES = frozenset({"ALIAS"})


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _substitute(value: Any, values: dict[str, str], source: str) -> Any:
    if isinstance(value, str):

        def repl(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in values:
                return values[name]
            if name in _KEYCLOAK_TEMPLATE_NAMES:
                return match.group(0)
            raise KeycloakError(f"{source}: no value for placeholder ${{{name}}}")

        return unicodedata.normalize("NFC", _PLACEHOLDER_RE.sub(repl, value))
    if isinstance(value, list):
        return [_substitute(item, values, source) for item in value]
    if isinstance(value, dict):
        return {
            key: _substitute(item, values, source)
            for key, item in value.items()
            if not key.startswith(("_comment", "x-"))
        }
    return value


def _dev_secret(slug: str, what: str) -> str:
    return f"dev-only-{slug}-{what}-secret"


def tenant_placeholders(
    tenant: TenantSpec,
    base_url: str,
    *,
    console_base_url: str,
    console_secret: str,
    partners_secret: str,
    vneid_secret: str,
    vneid_issuer: str | None = None,
) -> dict[str, str]:
    """Values of every placeholder of ``realm-template.json`` and ``vneid-broker-client.json`` when the
    VNeID stand-in is the ``vneid`` realm of the Keycloak at ``base_url`` (see deploy/keycloak/README.md)."""
    base = base_url.rstrip("/")
    issuer = (vneid_issuer or f"{base}/realms/{VNEID_REALM}").rstrip("/")
    oidc = f"{issuer}/protocol/openid-connect"
    return {
        "TENANT": tenant.slug,
        "TENANT_DISPLAY_NAME": tenant.display_name,
        "KEYCLOAK_BASE": base,
        "CONSOLE_BASE_URL": console_base_url.rstrip("/"),
        "CONSOLE_CLIENT_SECRET": console_secret,
        "PARTNERS_CLIENT_SECRET": partners_secret,
        "VNEID_ISSUER": issuer,
        "VNEID_AUTHORIZATION_URL": f"{oidc}/auth",
        "VNEID_TOKEN_URL": f"{oidc}/token",
        "VNEID_USERINFO_URL": f"{oidc}/userinfo",
        "VNEID_JWKS_URL": f"{oidc}/certs",
        "VNEID_LOGOUT_URL": f"{oidc}/logout",
        "VNEID_CLIENT_ID": f"{tenant.realm}-broker",
        "VNEID_CLIENT_SECRET": vneid_secret,
    }


def _dev_users(slug: str) -> dict[str, Any] | None:
    path = realm_dir() / "dev" / f"tenant-{slug}.json"
    return _load(path) if path.is_file() else None


def _with_password(user: dict[str, Any], password: str, realm: str) -> dict[str, Any]:
    user = dict(user)
    user["credentials"] = [{"type": "password", "value": password, "temporary": False}]
    # Users made by an import do not get the realm's default roles by themselves.
    user["realmRoles"] = list(dict.fromkeys([*user.get("realmRoles", []), f"default-roles-{realm}"]))
    return user


def _apply_overlay(
    realm: dict[str, Any], overlay: dict[str, Any], values: dict[str, str], source: str
) -> None:
    overlay = _substitute(overlay, values, source)
    clients = realm.setdefault("clients", [])
    clients.extend(overlay.get("addClients", []))
    for client_id, uris in overlay.get("addRedirectUris", {}).items():
        for client in clients:
            if client.get("clientId") == client_id:
                client["redirectUris"] = list(dict.fromkeys([*client.get("redirectUris", []), *uris]))


def render_realms(
    tenants: Sequence[TenantSpec],
    base_url: str,
    dev: bool,
    *,
    console_base_url: str = "http://127.0.0.1:8300",
    secrets: dict[str, dict[str, str]] | None = None,
    platform: bool = False,
) -> list[dict[str, Any]]:
    """Realm representations for the ``vneid`` stand-in realm (first) and one ``tenant-<slug>`` realm
    per tenant, from deploy/keycloak; with ``dev`` also the dev overlay (``school-dev-cli``, loopback
    redirect URIs, demo users with their password, demo citizens).

    ``secrets[slug]`` may give ``CONSOLE_CLIENT_SECRET``, ``PARTNERS_CLIENT_SECRET`` and
    ``VNEID_CLIENT_SECRET``; by default they are fixed ``dev-only-…`` strings with ``dev`` and random
    otherwise. With ``platform`` the ``platform`` realm (:func:`render_platform_realm`) comes last.
    """
    directory = realm_dir()
    template = _load(directory / "realm-template.json")
    broker_template = _load(directory / "vneid-broker-client.json")
    vneid = _substitute(_load(directory / "vneid-realm.json"), {}, "vneid-realm.json")
    overlay = _load(directory / "dev" / "tenant-overlay.json") if dev else None
    realms: list[dict[str, Any]] = []
    seen: set[str] = set()
    for tenant in tenants:
        if tenant.slug in seen:
            raise KeycloakError(f"tenant {tenant.slug!r} given twice")
        seen.add(tenant.slug)
        given = (secrets or {}).get(tenant.slug, {})
        console_secret = given.get("CONSOLE_CLIENT_SECRET") or (
            _dev_secret(tenant.slug, "console") if dev else _random_secret()
        )
        partners_secret = given.get("PARTNERS_CLIENT_SECRET") or (
            _dev_secret(tenant.slug, "partners") if dev else _random_secret()
        )
        vneid_secret = given.get("VNEID_CLIENT_SECRET") or (
            _dev_secret(tenant.slug, "vneid-broker") if dev else _random_secret()
        )
        values = tenant_placeholders(
            tenant,
            base_url,
            console_base_url=console_base_url,
            console_secret=console_secret,
            partners_secret=partners_secret,
            vneid_secret=vneid_secret,
        )
        realm = _substitute(copy.deepcopy(template), values, "realm-template.json")
        vneid.setdefault("clients", []).append(
            _substitute(copy.deepcopy(broker_template), values, "vneid-broker-client.json")
        )
        if overlay is not None:
            _apply_overlay(realm, overlay, values, "dev/tenant-overlay.json")
            demo = _dev_users(tenant.slug)
            if demo is not None:
                password = demo.get("password", DEV_PASSWORD)
                realm.setdefault("users", []).extend(
                    _with_password(user, password, tenant.realm)
                    for user in _substitute(demo["users"], values, "dev users")
                )
        realms.append(realm)
    if dev:
        citizens = _load(directory / "dev" / "vneid-citizens.json")
        password = citizens.get("password", DEV_PASSWORD)
        vneid["users"] = [
            _with_password(user, password, VNEID_REALM)
            for user in _substitute(citizens["citizens"], {}, "dev/vneid-citizens.json")
        ]
    return [vneid, *realms, *([render_platform_realm(dev)] if platform else [])]


def _dev_platform() -> dict[str, Any]:
    return dict(_load(realm_dir() / "dev" / "platform.json"))


def render_platform_realm(dev: bool) -> dict[str, Any]:
    """The ``platform`` realm (``platform-realm.json``); with ``dev`` also ``dev/platform.json``: the
    password-grant client ``school-dev-cli`` and the demo operator with the published password."""
    realm: dict[str, Any] = _substitute(_load(realm_dir() / "platform-realm.json"), {}, "platform-realm.json")
    if dev:
        overlay = _dev_platform()
        _apply_overlay(realm, overlay, {}, "dev/platform.json")
        password = overlay.get("password", DEV_PASSWORD)
        realm.setdefault("users", []).extend(
            _with_password(user, password, PLATFORM_REALM)
            for user in _substitute(overlay.get("users", []), {}, "dev/platform.json")
        )
    return realm


def _random_secret() -> str:
    import secrets as _secrets

    return _secrets.token_urlsafe(32)


# --------------------------------------------------------------------------------------------------
# Admin REST API
# --------------------------------------------------------------------------------------------------


class _Admin:
    def __init__(self, cfg: KeycloakConfig) -> None:
        self.cfg = cfg
        self.http = httpx.AsyncClient(base_url=cfg.base_url, timeout=httpx.Timeout(120.0, connect=5.0))
        self._token: str | None = None

    async def __aenter__(self) -> _Admin:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.aclose()

    async def _login(self) -> None:
        response = await self.http.post(
            "/realms/master/protocol/openid-connect/token",
            data={
                "grant_type": "password",
                "client_id": "admin-cli",
                "username": self.cfg.admin_user,
                "password": self.cfg.admin_password,
            },
        )
        if response.status_code != 200:
            raise KeycloakError(
                f"admin sign-in as {self.cfg.admin_user!r} failed ({response.status_code}): "
                f"{response.text[:300]} - the bootstrap admin is made only on the first start with an "
                "empty database; delete the run_dir to reset"
            )
        self._token = response.json()["access_token"]

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        for attempt in range(2):
            if self._token is None:
                await self._login()
            response = await self.http.request(
                method, f"/admin/realms{path}", headers={"Authorization": f"Bearer {self._token}"}, **kwargs
            )
            if response.status_code == 401 and attempt == 0:
                self._token = None
                continue
            return response
        raise AssertionError("unreachable")

    async def ok(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = await self.request(method, path, **kwargs)
        if response.status_code >= 300:
            raise KeycloakError(f"{method} {path} -> {response.status_code}: {response.text[:500]}")
        return response

    async def realm_exists(self, realm: str) -> bool:
        response = await self.request("GET", f"/{realm}")
        if response.status_code == 404:
            return False
        if response.status_code != 200:
            raise KeycloakError(f"GET realm {realm} -> {response.status_code}: {response.text[:300]}")
        return True

    async def client(self, realm: str, client_id: str) -> dict[str, Any] | None:
        found = (await self.ok("GET", f"/{realm}/clients", params={"clientId": client_id})).json()
        return found[0] if found else None

    async def client_secret(self, realm: str, client_id: str) -> str | None:
        client = await self.client(realm, client_id)
        if client is None or client.get("publicClient") or client.get("bearerOnly"):
            return None
        secret = (await self.ok("GET", f"/{realm}/clients/{client['id']}/client-secret")).json()
        value = secret.get("value")
        return str(value) if value else None


_PARTIAL_IMPORT_KEYS = ("roles", "clients", "identityProviders", "identityProviderMappers", "users", "groups")


async def _ensure_realm(admin: _Admin, rep: dict[str, Any]) -> str:
    name = str(rep["realm"])
    if not await admin.realm_exists(name):
        response = await admin.request("POST", "", json=rep)
        if response.status_code == 409:  # created concurrently
            return "exists"
        if response.status_code >= 300:
            raise KeycloakError(f"creating realm {name} -> {response.status_code}: {response.text[:500]}")
        return "created"
    # Existing realm: add what it lacks, never overwrite (data persists, admin changes survive).
    payload: dict[str, Any] = {"ifResourceExists": "SKIP"}
    for key in _PARTIAL_IMPORT_KEYS:
        if rep.get(key):
            payload[key] = rep[key]
    result = (await admin.ok("POST", f"/{name}/partialImport", json=payload)).json()
    flows_added = await _ensure_flows(admin, rep)
    return "updated" if result.get("added", 0) or flows_added else "unchanged"


# Keycloak's own flow bindings: a realm still bound to one of these has not been customised by hand.
_DEFAULT_FLOW_BINDINGS = {"browserFlow": "browser", "directGrantFlow": "direct grant"}


async def _ensure_flows(admin: _Admin, rep: dict[str, Any]) -> bool:
    """Partial import does not cover authentication flows: create the top-level flows of ``rep`` that
    the realm lacks (with their sub-flows and authenticator configs, through the executions API), then
    bind the realm to them where it is still bound to Keycloak's default flow. Flows that exist are
    left alone, whatever their content (an administrator may have changed them)."""
    realm = str(rep["realm"])
    flows = {str(f["alias"]): f for f in rep.get("authenticationFlows", [])}
    configs = {str(c["alias"]): c.get("config", {}) for c in rep.get("authenticatorConfig", [])}
    existing = {f["alias"] for f in (await admin.ok("GET", f"/{realm}/authentication/flows")).json()}
    added = False
    for alias, flow in flows.items():
        if not flow.get("topLevel") or alias in existing:
            continue
        await admin.ok(
            "POST",
            f"/{realm}/authentication/flows",
            json={
                "alias": alias,
                "description": flow.get("description", ""),
                "providerId": flow.get("providerId", "basic-flow"),
                "topLevel": True,
                "builtIn": False,
            },
        )
        try:
            await _add_executions(admin, realm, flow, flows, configs)
        except Exception:
            # Never leave a half-built flow behind: the next run would take it as existing.
            with contextlib.suppress(KeycloakError, httpx.HTTPError):
                made = (await admin.ok("GET", f"/{realm}/authentication/flows")).json()
                for found in made:
                    if found["alias"] == alias:
                        await admin.ok("DELETE", f"/{realm}/authentication/flows/{found['id']}")
            raise
        added = True
    current = (await admin.ok("GET", f"/{realm}")).json()
    bindings = {
        key: rep[key]
        for key, default in _DEFAULT_FLOW_BINDINGS.items()
        if rep.get(key) and current.get(key) == default and rep[key] != default
    }
    if bindings:
        await admin.ok("PUT", f"/{realm}", json={"realm": realm, **bindings})
    return added or bool(bindings)


async def _add_executions(
    admin: _Admin,
    realm: str,
    flow: dict[str, Any],
    flows: dict[str, dict[str, Any]],
    configs: dict[str, dict[str, Any]],
) -> None:
    path = f"/{realm}/authentication/flows/{quote(str(flow['alias']), safe='')}/executions"
    executions = sorted(flow.get("authenticationExecutions", []), key=lambda e: int(e.get("priority", 0)))
    for execution in executions:
        sub = flows.get(str(execution.get("flowAlias"))) if execution.get("authenticatorFlow") else None
        if execution.get("authenticatorFlow"):
            if sub is None:
                raise KeycloakError(f"{flow['alias']!r}: unknown sub-flow {execution.get('flowAlias')!r}")
            body = {
                "alias": sub["alias"],
                "description": sub.get("description", ""),
                "type": sub.get("providerId", "basic-flow"),
                "provider": "registration-page-form",
            }
            await admin.ok("POST", f"{path}/flow", json=body)
        else:
            await admin.ok("POST", f"{path}/execution", json={"provider": execution["authenticator"]})
        # The new execution is the last direct child (level 0) of the flow.
        info = [e for e in (await admin.ok("GET", path)).json() if e.get("level") == 0][-1]
        if info.get("requirement") != execution["requirement"]:
            info["requirement"] = execution["requirement"]
            await admin.ok("PUT", path, json=info)
        config_alias = execution.get("authenticatorConfig")
        if config_alias:
            await admin.ok(
                "POST",
                f"/{realm}/authentication/executions/{info['id']}/config",
                json={"alias": config_alias, "config": configs[str(config_alias)]},
            )
        if sub is not None:
            await _add_executions(admin, realm, sub, flows, configs)


async def _reconcile_broker(
    admin: _Admin, tenant: TenantSpec, rendered: dict[str, Any], vneid: dict[str, Any]
) -> None:
    """Keep the tenant's ``vneid`` identity provider and VNeID's broker client in step: endpoints and
    redirect URIs from the templates (the port may have changed), the secret from VNeID's client."""
    broker_id = f"{tenant.realm}-broker"
    wanted_client = next(c for c in vneid["clients"] if c["clientId"] == broker_id)
    client = await admin.client(VNEID_REALM, broker_id)
    if client is None:
        raise KeycloakError(f"VNeID client {broker_id} is missing")
    if (
        client.get("redirectUris") != wanted_client["redirectUris"]
        or client.get("attributes", {}).get("post.logout.redirect.uris")
        != wanted_client["attributes"]["post.logout.redirect.uris"]
    ):
        client["redirectUris"] = wanted_client["redirectUris"]
        client.setdefault("attributes", {})["post.logout.redirect.uris"] = wanted_client["attributes"][
            "post.logout.redirect.uris"
        ]
        await admin.ok("PUT", f"/{VNEID_REALM}/clients/{client['id']}", json=client)
    secret = await admin.client_secret(VNEID_REALM, broker_id)
    wanted_idp = next(i for i in rendered["identityProviders"] if i["alias"] == VNEID_ALIAS)
    current = await admin.request("GET", f"/{tenant.realm}/identity-provider/instances/{VNEID_ALIAS}")
    if current.status_code == 404:
        return
    idp = current.json()
    idp["config"] = {**idp.get("config", {}), **wanted_idp["config"], "clientSecret": secret or ""}
    if not idp.get("postBrokerLoginFlowAlias") and wanted_idp.get("postBrokerLoginFlowAlias"):
        # A realm made before the post-login flow existed (its flow was just added by _ensure_flows).
        idp["postBrokerLoginFlowAlias"] = wanted_idp["postBrokerLoginFlowAlias"]
    await admin.ok("PUT", f"/{tenant.realm}/identity-provider/instances/{VNEID_ALIAS}", json=idp)


def _full_name(user: dict[str, Any]) -> str:
    # Vietnamese order: family name first.
    return " ".join(part for part in (user.get("lastName"), user.get("firstName")) if part)


async def provision(
    cfg: KeycloakConfig,
    tenants: Sequence[TenantSpec],
    dev: bool,
    *,
    secrets: dict[str, dict[str, str]] | None = None,
) -> dict[str, Any]:
    """Create the missing realms (``vneid``, one per tenant, ``platform``) through the admin REST API;
    existing realms only get what they lack (partial import, SKIP; missing authentication flows), so
    users and changes persist between runs. Returns a JSON-serialisable description of what is there
    (for ``.run/stack.json``)."""
    base = cfg.base_url
    realms = render_realms(
        tenants, base, dev, console_base_url=cfg.console_base_url, secrets=secrets, platform=True
    )
    vneid_rep, tenant_reps = realms[0], realms[1:-1]
    states: dict[str, str] = {}
    async with _Admin(cfg) as admin:
        await admin.request("GET", "/master")  # sign in once before the concurrent requests
        # Realms are independent until the brokers are reconciled: create them concurrently (most of
        # the time goes into hashing the demo passwords, one core per realm).
        results = await asyncio.gather(*(_ensure_realm(admin, rep) for rep in realms))
        states.update({str(rep["realm"]): state for rep, state in zip(realms, results, strict=True)})
        for tenant, rep in zip(tenants, tenant_reps, strict=True):
            await _reconcile_broker(admin, tenant, rep, vneid_rep)
        described: dict[str, Any] = {}
        for tenant in tenants:
            demo = _dev_users(tenant.slug) if dev else None
            password = (demo or {}).get("password", DEV_PASSWORD)
            users = [
                {
                    "username": user["username"],
                    "password": password,
                    "roles": list(user.get("realmRoles", [])),
                    "full_name": unicodedata.normalize("NFC", _full_name(user)),
                    "email": user.get("email"),
                    "school": user.get("x-school"),
                    "children": user.get("x-children", []),
                    "personal_id": (user.get("attributes", {}).get("personal_id") or [None])[0],
                }
                for user in (demo or {}).get("users", [])
            ]
            issuer = f"{base}/realms/{tenant.realm}"
            described[tenant.slug] = {
                "realm": tenant.realm,
                "display_name": tenant.display_name,
                "issuer": issuer,
                "token_endpoint": f"{issuer}/protocol/openid-connect/token",
                "state": states[tenant.realm],
                "clients": {
                    "mobile": MOBILE_CLIENT,
                    "console": CONSOLE_CLIENT,
                    "console_secret": await admin.client_secret(tenant.realm, CONSOLE_CLIENT),
                    "partners": PARTNERS_CLIENT,
                    "partners_secret": await admin.client_secret(tenant.realm, PARTNERS_CLIENT),
                    "dev_cli": DEV_CLI_CLIENT if dev else None,
                    "audience": API_AUDIENCE,
                },
                "identity_provider": VNEID_ALIAS,
                "schools": (demo or {}).get("schools", []),
                "users": users,
            }
        platform_issuer = f"{base}/realms/{PLATFORM_REALM}"
        operators = _dev_platform() if dev else {}
        platform = {
            "realm": PLATFORM_REALM,
            "issuer": platform_issuer,
            "token_endpoint": f"{platform_issuer}/protocol/openid-connect/token",
            "state": states[PLATFORM_REALM],
            "clients": {"dev_cli": DEV_CLI_CLIENT if dev else None, "audience": API_AUDIENCE},
            "users": [
                {
                    "username": user["username"],
                    "password": operators.get("password", DEV_PASSWORD),
                    "roles": list(user.get("realmRoles", [])),
                    "full_name": unicodedata.normalize("NFC", _full_name(user)),
                    "email": user.get("email"),
                }
                for user in operators.get("users", [])
            ],
        }
    citizens_file = _load(realm_dir() / "dev" / "vneid-citizens.json") if dev else {"citizens": []}
    links = {
        fed["userName"]: {"tenant": tenant.slug, "username": user["username"]}
        for tenant in tenants
        for user in ((_dev_users(tenant.slug) or {}).get("users", []) if dev else [])
        for fed in user.get("federatedIdentities", [])
        if fed.get("identityProvider") == VNEID_ALIAS
    }
    return {
        "base_url": base,
        "management_url": cfg.management_url,
        "admin": {
            "realm": "master",
            "username": cfg.admin_user,
            "password": cfg.admin_password,
            "console_url": f"{base}/admin/master/console/",
        },
        "realms": described,
        "platform": platform,
        "vneid": {
            "realm": VNEID_REALM,
            "issuer": f"{base}/realms/{VNEID_REALM}",
            "state": states[VNEID_REALM],
            "citizens": [
                {
                    "personal_id": citizen["username"],
                    "password": citizens_file.get("password", DEV_PASSWORD),
                    "full_name": citizen["attributes"]["full_name"][0],
                    "birthdate": citizen["attributes"]["birthdate"][0],
                    "ial": int(citizen["attributes"]["ial"][0]),
                    "linked_to": links.get(citizen["username"]),
                }
                for citizen in citizens_file["citizens"]
            ],
        },
    }


# --------------------------------------------------------------------------------------------------
# python -m school_stack.keycloak
# --------------------------------------------------------------------------------------------------


def _spawn(argv: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("ab") as log:
        return subprocess.Popen(
            argv,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: _stop signals kc.sh and the JVM together
        )


def _stop(process: subprocess.Popen[bytes], grace_s: float = 30.0) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(grace_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _parse_tenants(text: str) -> list[TenantSpec]:
    known = {t.slug: t for t in DEFAULT_TENANTS}
    tenants = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        slug, _, display = item.partition("=")
        tenants.append(
            TenantSpec(slug, display.strip()) if display else known.get(slug) or TenantSpec(slug, slug)
        )
    return tenants


async def _run(args: Any) -> int:
    tenants = _parse_tenants(args.tenants)
    kwargs: dict[str, Any] = {"port": args.port, "management_port": args.management_port}
    if args.java_opts is not None:
        kwargs["java_opts_append"] = args.java_opts
    if args.run_dir:
        kwargs["run_dir"] = Path(args.run_dir)
    cfg = KeycloakConfig(**kwargs)

    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    started = time.monotonic()
    home = await asyncio.to_thread(ensure_distribution, cfg)
    argv, env = command(cfg, home)
    log_path = cfg.run_dir / "keycloak.log"
    say(f"keycloak: starting {cfg.base_url} (log: {log_path})")
    process = await asyncio.to_thread(_spawn, argv, env, log_path)
    try:

        def tick(_elapsed: float) -> None:
            if process.poll() is not None:
                raise KeycloakError(f"Keycloak exited with {process.returncode}; see {log_path}")

        await wait_ready(cfg, args.timeout, tick)
        ready = time.monotonic() - started
        description = await provision(cfg, tenants, dev=not args.no_dev)
        total = time.monotonic() - started
        description["timings_s"] = {"ready": round(ready, 1), "provisioned": round(total, 1)}
        text = json.dumps(description, ensure_ascii=False, indent=2)
        print(text, flush=True)
        if args.out:
            await asyncio.to_thread(Path(args.out).write_text, text + "\n", encoding="utf-8")
        say(f"keycloak: ready in {ready:.1f}s, provisioned in {total:.1f}s")
        if args.stop:
            return 0
        say("keycloak: running; Ctrl-C to stop")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        while not stop.is_set() and process.poll() is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)
        return 0 if stop.is_set() else (process.returncode or 1)
    finally:
        await asyncio.to_thread(_stop, process)


_DESCRIPTION = "Start Keycloak in the foreground, provision the realms, print the stack description."


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m school_stack.keycloak", description=_DESCRIPTION)
    parser.add_argument(
        "--tenants",
        default="demo,other",
        help="comma-separated slugs, each optionally slug=Display name (default: demo,other)",
    )
    parser.add_argument("--no-dev", action="store_true", help="without the dev overlay (no demo users)")
    parser.add_argument("--run-dir", help="state directory (default <repo>/.run/data/keycloak)")
    parser.add_argument("--port", type=int, default=8180)
    parser.add_argument("--management-port", type=int, default=18190)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--java-opts", help="JVM options appended to Keycloak's (JAVA_OPTS_APPEND)")
    parser.add_argument("--out", help="also write the description JSON to this file")
    parser.add_argument("--stop", action="store_true", help="stop Keycloak after provisioning (timing, CI)")
    parser.add_argument("--render", action="store_true", help="print the rendered realms, start nothing")
    args = parser.parse_args(argv)
    if args.render:
        tenants = _parse_tenants(args.tenants)
        base = f"http://127.0.0.1:{args.port}"
        realms = render_realms(tenants, base, dev=not args.no_dev, platform=True)
        print(json.dumps(realms, ensure_ascii=False, indent=2))
        return 0
    try:
        return asyncio.run(_run(args))
    except (KeycloakError, TimeoutError) as exc:
        print(f"keycloak: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
