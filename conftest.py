"""Root conftest: test settings must be in the environment before Django loads."""

import os

os.environ["OFELI_TESTING"] = "1"
os.environ.setdefault("HUEY_IMMEDIATE", "1")
