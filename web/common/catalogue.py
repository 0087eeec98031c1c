"""The portals' message catalogues (pt-BR and English).

    python -m web.common.catalogue compile   # .po -> .mo (make translations; not committed)
    python -m web.common.catalogue extract   # maintainers: source -> .pot -> update the .po files

The .po files are the source of truth and are committed; the .mo files are generated.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

WEB = Path(__file__).resolve().parents[1]
ROOT = WEB.parent
# One catalogue for both doors, from the sources of both: their pages share most messages; and
# the payment gateway's decline and card messages, which the doors show (N_ marks them there).
CATALOGUE = WEB / "common" / "translations"
SOURCES = [WEB, ROOT / "billing_common" / "payments"]
MAPPING = WEB / "common" / "babel.cfg"


def compile_all(verbose: bool = True) -> list[Path]:
    """Every locale's .po, compiled next to itself as .mo."""
    written = []
    for po_path in sorted(CATALOGUE.glob("*/LC_MESSAGES/*.po")):
        with po_path.open("rb") as handle:
            catalog = read_po(handle, locale=po_path.parent.parent.name)
        mo_path = po_path.with_suffix(".mo")
        with mo_path.open("wb") as handle:
            write_mo(handle, catalog, use_fuzzy=False)
        written.append(mo_path)
        if verbose:
            print(f"compiled {po_path.relative_to(ROOT)} ({len(catalog)} messages)")
    return written


def extract() -> None:
    """Source -> a .pot (temporary) -> merged into every locale's messages.po (pybabel's frontend).

    New messages arrive with an empty msgstr: translate them, then `compile`.
    """
    with tempfile.TemporaryDirectory() as tmp:
        pot = Path(tmp) / "messages.pot"
        cli = CommandLineInterface()
        cli.run(["pybabel", "extract", "--no-location", "--sort-output", "-F", str(MAPPING),
                 "-k", "_l", "-k", "lazy_gettext", "-o", str(pot), *[str(s) for s in SOURCES]])
        cli.run(["pybabel", "update", "--no-fuzzy-matching", "--ignore-obsolete", "-i", str(pot),
                 "-d", str(CATALOGUE)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["compile", "extract"])
    args = parser.parse_args(argv)
    if args.command == "compile":
        compile_all()
    else:
        extract()
    return 0


if __name__ == "__main__":
    sys.exit(main())
