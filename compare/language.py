"""The user's language: English, written in the code, or Brazilian Portuguese.

A message is written in English and passed through `_()`; the Portuguese comes from the
gettext catalog compare/locale/pt_BR/LC_MESSAGES/compare.po, read with Babel. Babel also
writes the numbers as each language does: 54,410 and 0.8810 in English, 54.410 and
0,8810 in Brazil. `--lang` sets the language once for the whole run (`set_language`);
`speaking(lang)` sets it for a block.
"""

import contextlib
import decimal
from functools import cache
from pathlib import Path

LANGUAGES = ("en", "pt")
LOCALES = {"en": "en_US", "pt": "pt_BR"}
HTML_LANG = {"en": "en", "pt": "pt-BR"}  # the page's <html lang>
CATALOGS = Path(__file__).parent / "locale"

_language = "en"


def set_language(lang):
    global _language
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}, expected one of {LANGUAGES}")
    _language = lang


def language():
    return _language


@contextlib.contextmanager
def speaking(lang):
    """The block speaks `lang` (None: the current language)."""
    before = _language
    set_language(lang or before)
    try:
        yield
    finally:
        set_language(before)


@cache
def catalog(lang):
    """{English message: translation} for `lang`, and {(singular, plural): forms} for
    the messages that depend on a count; empty for English."""
    if lang == "en":
        return {}
    from babel.messages.pofile import read_po

    path = CATALOGS / LOCALES[lang] / "LC_MESSAGES" / "compare.po"
    with path.open("rb") as po:
        messages = read_po(po, locale=LOCALES[lang])
    return {
        message.id: message.string
        for message in messages
        if message.id and all(forms_of(message.string)) and not message.fuzzy
    }


def forms_of(string):
    return string if isinstance(string, tuple) else (string,)


def _(message):
    """`message` in the current language (itself where the catalog has no translation)."""
    return catalog(_language).get(message, message)


def _n(singular, plural, count):
    """The form of a message for `count` things in the current language: English has
    one and other (1 epoch, 2 epochs), Brazilian Portuguese says 0 and 1 the same way
    (0 época, 1 época, 2 épocas): Babel knows each language's rule."""
    from babel import Locale

    forms = catalog(_language).get((singular, plural), (singular, plural))
    one = Locale.parse(LOCALES[_language]).plural_form(abs(count)) == "one"
    return forms[0] if one else forms[1]


def quantity(count, singular, plural):
    """ "1 image", "60,000 images": `count` written as the language writes numbers, in
    the form the language uses for it; `singular`/`plural` hold "{count}"."""
    return _n(singular, plural, count).format(count=number(count))


def N_(message):
    """Marks an English message to be translated where it is shown, not where it is
    written (gettext's convention): a table's row labels, a reason kept in a report."""
    return message


def number(value, decimals=0):
    """`value` with thousands separators and `decimals` digits after the point, as the
    current language writes it: number(54410) is "54,410" or "54.410"."""

    from babel.numbers import format_decimal

    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    # Babel rounds in decimal's context, 28 digits by default: a size a hostile header
    # declares, 10^28 bytes and more, would raise InvalidOperation. Enough digits for any.
    digits = len(f"{abs(value):.0f}") + decimals + 2
    with decimal.localcontext(prec=max(28, digits)):
        return format_decimal(value, format=pattern, locale=LOCALES[_language])


def exact(value):
    """`value` with as many decimals as it has (0.001 stays 0.001, or 0,001)."""
    from babel.numbers import format_decimal

    return format_decimal(value, format="#,##0.##########", locale=LOCALES[_language])


def percent(value):
    """0.42 as "42%" (both languages write it so)."""
    from babel.numbers import format_percent

    return format_percent(value, format="#,##0%", locale=LOCALES[_language])


def scientific(value, digits=2):
    """A tiny `value` in scientific notation with `digits` (2 or more) significant digits, as the
    current language writes it: 1.2E-7 in English, 1,2E-7 in Brazil (Babel's CLDR
    pattern; the comma is the decimal mark). Zero is plain "0"."""
    from babel.numbers import format_scientific

    if value == 0:
        return number(0)
    pattern = "0." + "0" * (digits - 1) + "E0"
    rounded = float(f"{value:.{digits - 1}e}")  # else Babel writes 9.99e-8 as 10.0E-8
    return format_scientific(rounded, format=pattern, locale=LOCALES[_language])
