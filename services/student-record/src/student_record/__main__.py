from school_common.app import main

from student_record.service import DEFINITION

if __name__ == "__main__":
    main(DEFINITION)
