"""payments's tables (the domain tables arrive with the payments issue)."""

from school_common.db import new_metadata
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    metadata = new_metadata()
