pytest_plugins = ["school_common.testing.fixtures"]
