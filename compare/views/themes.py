"""The code view's colours on a dark or a light terminal, or on either.

pygments' TerminalFormatter writes comments in grey (ANSI 37) on a light background, where
they all but vanish, and strings in yellow; the lessons' comments are half the lesson. So:
dark is pygments' own dark scheme; light is its light one with comments and docstrings in
green, other strings in magenta; both, for a terminal that does not say, uses only the ANSI colours that read on
white and on black alike (red, green, magenta, cyan: never grey, yellow or blue).
`--theme auto` reads the background from COLORFGBG ("15;0": white on black), which many
terminals set, else takes both.
"""

from pygments.formatters.terminal import TERMINAL_COLORS
from pygments.token import Comment, Keyword, Name, Number, Operator, String, Token

THEMES = ("auto", "dark", "light")
DARK_BACKGROUNDS = {*range(7), 8}  # ANSI 0-6 and 8: black to grey; 7 and 9-15 are light


def same_on_both(colours):
    """{token: colour} as the (light, dark) pairs TerminalFormatter reads."""
    return {token: (colour, colour) for token, colour in colours.items()}


LIGHT = {
    **TERMINAL_COLORS,
    **same_on_both(
        {
            Token.Text.Whitespace: "",
            Comment: "green",
            String: "magenta",
            String.Doc: "green",
        }
    ),
}
BOTH = same_on_both(
    {
        Token: "",
        Comment: "green",
        Comment.Preproc: "cyan",
        Keyword: "magenta",
        Keyword.Type: "cyan",
        Operator.Word: "magenta",
        Name.Builtin: "cyan",
        Name.Function: "cyan",
        Name.Namespace: "_cyan_",
        Name.Class: "_cyan_",
        Name.Exception: "cyan",
        Name.Decorator: "magenta",
        Name.Variable: "red",
        Name.Constant: "red",
        Name.Attribute: "cyan",
        String: "red",
        String.Doc: "green",  # prose, as the comments
        Number: "red",
        Token.Error: "_red_",
    }
)


def terminal_theme(environ):
    """dark or light from COLORFGBG's last field (the background), else both."""
    background = environ.get("COLORFGBG", "").split(";")[-1]
    if not background.isdecimal():
        return "both"
    return "dark" if int(background) in DARK_BACKGROUNDS else "light"


def formatter(theme):
    """A pygments TerminalFormatter for `theme`: dark, light or both."""
    from pygments.formatters import TerminalFormatter

    if theme == "dark":
        return TerminalFormatter(bg="dark")
    colours = LIGHT if theme == "light" else BOTH
    return TerminalFormatter(bg="light", colorscheme=colours)
