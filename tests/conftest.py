import os

os.environ.setdefault("OFELI_TESTING", "1")
