"""The password hasher: Argon2id with OWASP's first recommended set of parameters (docs/decisions/argon2-parametres.md).

Django's defaults (100 MiB, 2 passes, 8 lanes) cost ≈ 0.3 s of CPU and 100 MiB per login: on the 2-core servers
OFeli runs on, a few logins at once queue every other request behind them, and 12 gunicorn threads hashing
together would need 1.2 GB. 19 MiB, 2 passes, 1 lane is OWASP's minimum for Argon2id (≈ 30 ms).

The algorithm name stays "argon2": hashes made with Django's defaults are still checked (their parameters are in
the hash) and Django rewrites them with these parameters at the user's next successful login (must_update).
"""

from django.contrib.auth.hashers import Argon2PasswordHasher


class OfeliArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
