"""identity's tables (the domain tables arrive with the identity issue)."""

from school_common.db import new_metadata
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    metadata = new_metadata()
