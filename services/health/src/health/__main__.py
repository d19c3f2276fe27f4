from school_common.app import main

from health.service import DEFINITION

if __name__ == "__main__":
    main(DEFINITION)
