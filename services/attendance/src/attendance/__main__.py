from school_common.app import main

from attendance.service import DEFINITION

if __name__ == "__main__":
    main(DEFINITION)
