"""Server-side latency per page from OFeli's own request lines (ofeli.request duration_ms) in gunicorn's log.

    .venv/bin/python bench/load/serveur.py DOSSIER/gunicorn.log

The time inside Django (middleware to response), without the wait for a free gunicorn thread and the network:
compare with locust's figures (client side) to see how much is queueing.
"""

import re
import sys
from collections import defaultdict

LIGNE = re.compile(r"method=(\w+) path=(\S+) status=(\d+) duration_ms=([\d.]+)")


def gabarit(path: str) -> str:
    path = re.sub(r"/\d+/", "/[id]/", path)
    return re.sub(r"^/formations/[^/]+/[^/]+/$", "/formations/[numero]/[slug]/", path)


def main():
    durees, statuts = defaultdict(list), defaultdict(int)
    with open(sys.argv[1], errors="replace") as handle:
        for line in handle:
            if m := LIGNE.search(line):
                methode, path, statut, duree = m.groups()
                durees[(methode, gabarit(path))].append(float(duree))
                statuts[statut[0] + "xx"] += 1
    print(f"{'page (côté serveur)':55} {'n':>5} {'p50':>7} {'p95':>7}")
    tout = []
    for (methode, page), valeurs in sorted(durees.items()):
        valeurs.sort()
        tout += valeurs
        print(
            f"{methode + ' ' + page:55} {len(valeurs):>5} {valeurs[len(valeurs) // 2]:>7.0f} "
            f"{valeurs[min(len(valeurs) - 1, int(0.95 * len(valeurs)))]:>7.0f}"
        )
    tout.sort()
    if tout:
        print(f"{'ensemble':55} {len(tout):>5} {tout[len(tout) // 2]:>7.0f} {tout[int(0.95 * len(tout))]:>7.0f}")
    print("Statuts : " + ", ".join(f"{k} {v}" for k, v in sorted(statuts.items())))


if __name__ == "__main__":
    main()
