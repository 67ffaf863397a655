"""The user's language: English, written in the code, or Brazilian Portuguese.

A message is written in English and passed through `_()`; the Portuguese comes from the
gettext catalog compare/locale/pt_BR/LC_MESSAGES/compare.po, compiled with Babel into the
compare.mo beside it (python -m tools.compile_catalog) and read with the standard library's
gettext, which argparse's own messages go through too. Babel also writes the numbers as
each language does: 54,410 and 0.8810 in English, 54.410 and 0,8810 in Brazil. `--lang`
sets the language once for the whole run (`speaking_for_the_process`); `speaking(lang)`
sets it for a block.
"""

import contextlib
import decimal
import gettext
import os
from functools import cache
from pathlib import Path

LANGUAGES = ("en", "pt")
LOCALES = {"en": "en_US", "pt": "pt_BR"}
HTML_LANG = {"en": "en", "pt": "pt-BR"}  # the page's <html lang>
CATALOGS = Path(__file__).parent / "locale"
DOMAIN = "compare"  # locale/<LOCALE>/LC_MESSAGES/compare.mo

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


@contextlib.contextmanager
def speaking_for_the_process(lang):
    """The block speaks `lang`, and so do the standard library's own messages: argparse
    looks "usage:", "invalid choice" and the like up with gettext.gettext, in the process's
    text domain and in the language the LANGUAGE environment variable names (before
    LC_ALL, LC_MESSAGES and LANG: --lang en stays English on a Portuguese system). Both are
    set to compare.mo's for the block, then restored."""
    with speaking(lang):  # refuses an unknown language
        domain, before = gettext.textdomain(), os.environ.get("LANGUAGE")
        gettext.bindtextdomain(DOMAIN, str(CATALOGS))
        gettext.textdomain(DOMAIN)
        os.environ["LANGUAGE"] = LOCALES[lang]  # read at each lookup: en after pt works
        try:
            yield
        finally:
            gettext.textdomain(domain)
            if before is None:
                os.environ.pop("LANGUAGE", None)
            else:
                os.environ["LANGUAGE"] = before


@cache
def translations(lang):
    """The compiled catalog of `lang`, read with the standard library's gettext (fuzzy and
    untranslated messages were left out when compiling); for English, the messages as the
    code writes them. A missing compare.mo is an error, not English in disguise."""
    return gettext.translation(
        DOMAIN, CATALOGS, languages=[LOCALES[lang]], fallback=lang == "en"
    )


@cache
def catalog(lang):
    """{English message: translation} for `lang`, and {(singular, plural): forms} for
    the messages that depend on a count, as compare.mo holds them; empty for English."""
    if lang == "en":
        return {}
    from babel.messages.mofile import read_mo

    path = CATALOGS / LOCALES[lang] / "LC_MESSAGES" / f"{DOMAIN}.mo"
    with path.open("rb") as mo:
        return {
            forms(message.id): forms(message.string)
            for message in read_mo(mo)
            if message.id
        }


def forms(text):
    """A message, or a count's (singular, plural) and forms, which read_mo gives as lists."""
    return tuple(text) if isinstance(text, list) else text


def forms_of(string):
    return string if isinstance(string, tuple) else (string,)


def _(message):
    """`message` in the current language (itself where the catalog has no translation)."""
    if not message:  # gettext's "" is the catalog's header
        return message
    return translations(_language).gettext(message)


def _n(singular, plural, count):
    """The form of a message for `count` things in the current language: English has
    one and other (1 epoch, 2 epochs), Brazilian Portuguese says 0 and 1 the same way
    (0 época, 1 época, 2 épocas): the catalog's Plural-Forms header gives the rule."""
    count = abs(count)
    if count == int(count):  # 2.0 or a NumPy integer: gettext's rules take an int
        count = int(count)
    return translations(_language).ngettext(singular, plural, count)


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
