from health.models import Base
from school_common.migrations import run_env

run_env(Base.metadata)
