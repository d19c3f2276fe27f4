from school_common.app import main

from identity.service import DEFINITION

if __name__ == "__main__":
    main(DEFINITION)
