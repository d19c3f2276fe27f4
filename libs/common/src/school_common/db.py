"""Async SQLAlchemy: naming convention, UUIDv7 keys, a unit of work, tenant set per transaction.

Row-level security does the tenant filtering: every tenant-owned table has a ``tenant_id`` column and a
policy comparing it with ``current_setting('app.tenant_id')``; the unit of work sets that with
``set_config(..., is_local => true)`` (``SET LOCAL``) at the start of each transaction, so a pooled
connection never carries a tenant from one request to the next. The application connects as a role
without ``BYPASSRLS``; tables ``FORCE ROW LEVEL SECURITY``, so even their owner is filtered.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from sqlalchemy import DateTime, MetaData, String, func, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Mapped, mapped_column

from school_common.ids import uuid7
from school_common.settings import DatabaseSettings

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

TENANT_SETTING = "app.tenant_id"
# Set (SET LOCAL) only by the outbox relay and maintenance jobs, which work across tenants on the
# infrastructure tables; no tenant data table has a policy that looks at it.
INFRASTRUCTURE_SETTING = "app.infrastructure"


def new_metadata() -> MetaData:
    """Each service declares its own ``Base`` with this metadata; no models are shared."""
    return MetaData(naming_convention=NAMING_CONVENTION)


class IdMixin:
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), nullable=False
    )


class TenantMixin:
    tenant_id: Mapped[str] = mapped_column(String(63), nullable=False, index=True)


class Database:
    def __init__(self, settings: DatabaseSettings, application_name: str = "school") -> None:
        self.settings = settings
        self.engine: AsyncEngine = create_async_engine(
            settings.url.get_secret_value(),
            pool_size=settings.pool_size,
            max_overflow=settings.max_overflow,
            pool_pre_ping=True,
            pool_timeout=settings.connect_timeout_s,
            connect_args={
                "timeout": settings.connect_timeout_s,
                "server_settings": {
                    "application_name": application_name,
                    "statement_timeout": str(settings.statement_timeout_ms),
                    "idle_in_transaction_session_timeout": "60000",
                },
            },
        )
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=True)

    def unit_of_work(self, tenant: str | None, *, infrastructure: bool = False) -> UnitOfWork:
        return UnitOfWork(self, tenant, infrastructure=infrastructure)

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def dispose(self) -> None:
        await self.engine.dispose()


class UnitOfWork:
    """One transaction. Use cases call :meth:`commit`; leaving without it rolls back.

    ``tenant`` is set with ``SET LOCAL`` for RLS; without one nothing tenant-owned is visible.
    ``infrastructure=True`` (the relay, maintenance) reaches the outbox and idempotency rows of every
    tenant, and still no tenant data.
    """

    def __init__(self, db: Database, tenant: str | None, *, infrastructure: bool = False) -> None:
        self.db = db
        self.tenant = tenant
        self.infrastructure = infrastructure
        self._session: AsyncSession | None = None
        self._committed = False
        self._notify: set[str] = set()

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("unit of work is not open")
        return self._session

    async def __aenter__(self) -> Self:
        self._session = self.db.sessions()
        try:
            await self._session.begin()
            if self.tenant is not None:
                await self._session.execute(
                    text("SELECT set_config(:name, :tenant, true)"),
                    {"name": TENANT_SETTING, "tenant": self.tenant},
                )
            if self.infrastructure:
                await self._session.execute(
                    text("SELECT set_config(:name, 'on', true)"), {"name": INFRASTRUCTURE_SETTING}
                )
        except BaseException:
            await self._session.close()
            self._session = None
            raise
        return self

    def notify_on_commit(self, channel: str) -> None:
        self._notify.add(channel)

    async def commit(self) -> None:
        for channel in sorted(self._notify):
            await self.session.execute(text("SELECT pg_notify(:c, '')"), {"c": channel})
        await self.session.commit()
        self._committed = True

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        session, self._session = self._session, None
        if session is None:
            return
        try:
            if not self._committed:
                if exc is None:
                    # A read: keep what was loaded usable after the transaction ends (rollback would
                    # expire it), e.g. for mapping rows to a response outside the block.
                    session.expunge_all()
                await session.rollback()
        finally:
            await session.close()


def asyncpg_dsn(sqlalchemy_url: str) -> str:
    """The plain ``postgresql://`` DSN for asyncpg/psql from a SQLAlchemy URL."""
    return sqlalchemy_url.replace("postgresql+asyncpg://", "postgresql://", 1)


def row_to_dict(row: Any) -> dict[str, Any]:
    return dict(row._mapping)
