"""The tamper table: each way of tampering with a data folder (tests/voices/tampering.py), caught or not.

Run: PYTHONPATH=src .venv/bin/python bench/tamper.py
Each attack runs on a fresh installation in a temporary folder; ``*`` marks the six that passed
`sayso ledger verify` before issue 14.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import _common  # noqa: F401  (puts the repository root on sys.path)

# isort: split
from tests.voices.tampering import ATTACKS, outcome, prepare


def main() -> None:
    rows = []
    for attack in ATTACKS:
        with tempfile.TemporaryDirectory() as folder:
            home = Path(folder) / "home"
            prepare(home).db.close()
            attack.run(home)
            rows.append((attack, *outcome(home, attack)))
    print(f"{'attack (data folder only)':<82} caught  by")
    for attack, caught, why in rows:
        name = ("* " if attack.in_issue else "  ") + attack.name
        print(f"{name:<82} {'yes' if caught else 'NO ':<7} {why[:150]}")
    print(f"caught {sum(caught for _, caught, _ in rows)} of {len(rows)}")


if __name__ == "__main__":
    main()
