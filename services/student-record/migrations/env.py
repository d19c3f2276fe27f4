from school_common.migrations import run_env
from student_record.models import Base

run_env(Base.metadata)
