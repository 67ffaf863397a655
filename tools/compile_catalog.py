"""The message catalogs compiled: each compare/locale/<locale>/LC_MESSAGES/compare.po
into the compare.mo beside it, which compare/language.py reads with the standard
library's gettext (argparse's own messages included). After editing a .po, run

    python -m tools.compile_catalog

and commit both. Fuzzy and untranslated messages are left out, as `pybabel compile -d
compare/locale -D compare` leaves them; that command writes the same messages but exits
1, taking the "% i" of "95% interval" for a %-format placeholder the translation lacks.
A .mo that already holds its .po's messages is left as it is (its header's creation
date would change, nothing else).
"""

import io
from pathlib import Path

from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "compare" / "locale"
COMMAND = "python -m tools.compile_catalog"


def catalogs():
    """(the .po, the .mo beside it) for each language."""
    return [
        (po, po.with_suffix(".mo"))
        for po in sorted(LOCALE.glob("*/LC_MESSAGES/compare.po"))
    ]


def compiled(po):
    """The bytes of the .mo that `po` compiles to."""
    with po.open("rb") as file:
        catalog = read_po(file, locale=po.parents[1].name)
    mo = io.BytesIO()
    write_mo(mo, catalog)
    return mo.getvalue()


def messages(mo):
    """What the bytes of a .mo say, its header's dates and Babel version aside: the
    language, the plural rule, and {(context, message): translation}."""
    catalog = read_mo(io.BytesIO(mo))
    translations = {
        (message.context, hashable(message.id)): hashable(message.string)
        for message in catalog
        if message.id
    }
    return str(catalog.locale), catalog.plural_forms, translations


def hashable(text):
    """A message, or a count's (singular, plural) and forms: read_mo gives lists."""
    return tuple(text) if isinstance(text, list) else text


def main():
    for po, mo in catalogs():
        fresh = compiled(po)
        if mo.is_file() and messages(mo.read_bytes()) == messages(fresh):
            print(f"{mo.relative_to(ROOT)}: up to date")
        else:
            mo.write_bytes(fresh)
            print(f"{mo.relative_to(ROOT)}: written from {po.name}")


if __name__ == "__main__":
    main()
