"""Put HyperSpy's ``display``/``toolkit`` parameter text in method docstrings."""

import re

from hyperspy.ui_registry import DISPLAY_DT, TOOLKIT_DT

#: The source docstring's placeholder entry, replaced by HyperSpy's two entries.
_PLACEHOLDER = re.compile(r"^([ \t]*)display, toolkit\n(?:\1[ \t]+\S.*\n)*", re.MULTILINE)
_RETURNS = re.compile(r"\n\n([ \t]*)Returns\n\1-------\n")


def _reindent(entry, indent):
    """A numpydoc parameter entry (``name : type`` + description) at ``indent``."""
    first, *rest = entry.strip().splitlines()
    body = [f"{indent}    {line.strip()}" for line in rest]
    return "\n".join([indent + first.strip(), *body])


def _gui_entries(indent):
    return "\n".join(_reindent(entry, indent) for entry in (DISPLAY_DT, TOOLKIT_DT)) + "\n"


def with_gui_parameters(method):
    """Document ``display`` and ``toolkit`` with HyperSpy's own text.

    HyperSpy's :data:`~hyperspy.ui_registry.DISPLAY_DT` and
    :data:`~hyperspy.ui_registry.TOOLKIT_DT` replace a ``display, toolkit``
    entry of the Parameters section (which keeps the source docstring
    complete for linters), or are added as the last parameters, before the
    Returns section. They take the docstring's own indentation (Python 3.13
    strips it, earlier versions keep it).

    Parameters
    ----------
    method : callable
        A function with a numpydoc docstring that has a ``display, toolkit``
        entry or a Returns section.

    Returns
    -------
    callable
        ``method`` itself, with the extended docstring (unchanged when there
        is no docstring, e.g. under ``python -OO``).

    Raises
    ------
    ValueError
        If the docstring has neither a ``display, toolkit`` entry nor a
        Returns section.
    """
    doc = method.__doc__
    if not doc:
        return method
    placeholder = _PLACEHOLDER.search(doc)
    if placeholder is not None:
        start, end = placeholder.span()
        method.__doc__ = doc[:start] + _gui_entries(placeholder.group(1)) + doc[end:]
        return method
    returns = _RETURNS.search(doc)
    if returns is None:
        raise ValueError(
            f"{method.__qualname__}: no 'display, toolkit' entry or Returns section "
            "to document the GUI arguments in."
        )
    start = returns.start()
    method.__doc__ = doc[:start] + "\n" + _gui_entries(returns.group(1)).rstrip("\n") + doc[start:]
    return method
