"""A small English inflection for labels derived from table names.

Tables are named in the singular (``film``) or the plural (``courses``);
either way a resource needs both forms: "Film"/"Films", "Course"/"Courses".
Only the last word of a name is inflected (``film_actor`` → "Film actor" /
"Film actors"). Common irregular and uncountable nouns are listed; anything
else follows the regular rules, which a config file can always override.
"""

from __future__ import annotations

__all__ = ["humanize", "labels_for", "pluralize", "singularize"]

_IRREGULAR = {
    "person": "people",
    "child": "children",
    "man": "men",
    "woman": "women",
    "mouse": "mice",
    "goose": "geese",
    "tooth": "teeth",
    "foot": "feet",
    "criterion": "criteria",
    "phenomenon": "phenomena",
    "movie": "movies",
    "cookie": "cookies",
    "die": "dice",
    "leaf": "leaves",
    "life": "lives",
    "wife": "wives",
    "knife": "knives",
    "half": "halves",
    "shelf": "shelves",
}
_SINGULAR_OF = {plural: singular for singular, plural in _IRREGULAR.items()}
_UNCOUNTABLE = frozenset(
    {
        "data",
        "metadata",
        "equipment",
        "information",
        "news",
        "series",
        "species",
        "sheep",
        "fish",
        "staff",
        "feedback",
        "inventory",
        "software",
        "rice",
        "money",
        "media",
    }
)
_LATIN_US = ("tus", "pus", "rus", "nus", "bus", "lus", "mus", "ius")


def singularize(word: str) -> str:
    """``courses`` → ``course``; a word already singular is returned unchanged."""
    lower = word.lower()
    if lower in _UNCOUNTABLE or lower in _IRREGULAR:
        return word
    if lower in _SINGULAR_OF:
        return _match_case(word, _SINGULAR_OF[lower])
    if len(lower) > 3 and lower.endswith("ies"):
        return word[:-3] + "y"
    if lower.endswith("uses") and lower[:-2].endswith(_LATIN_US):
        return word[:-2]  # statuses, campuses, viruses
    if lower.endswith(("sses", "xes", "zzes", "ches", "shes")):
        return word[:-2]  # addresses, boxes, matches
    if lower.endswith("ses") and lower[:-3].endswith(("ly", "ba", "the", "ne")):
        return word[:-2] + "is"  # analyses, bases, theses
    if lower.endswith("s") and not lower.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def pluralize(word: str) -> str:
    """``film`` → ``films``, ``category`` → ``categories``, ``person`` → ``people``."""
    lower = word.lower()
    if lower in _UNCOUNTABLE or lower in _SINGULAR_OF:
        return word
    if lower in _IRREGULAR:
        return _match_case(word, _IRREGULAR[lower])
    if lower.endswith("y") and len(lower) > 1 and lower[-2] not in "aeiou":
        return word[:-1] + "ies"
    if lower.endswith("sis"):
        return word[:-2] + "es"
    if lower.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    return word + "s"


def _match_case(original: str, replacement: str) -> str:
    return replacement.capitalize() if original[:1].isupper() else replacement


def humanize(name: str) -> str:
    """``film_actor`` → ``Film actor``; ``FilmActor`` is kept as one word, capitalised."""
    words = name.replace("_", " ").split()
    text = " ".join(words) if words else name
    return text[:1].upper() + text[1:]


def labels_for(name: str) -> tuple[str, str]:
    """The singular and plural labels of a resource named after its table."""
    words = name.replace("_", " ").split() or [name]
    head, last = words[:-1], words[-1]
    if not last.isalpha():  # payment_p2022_01: nothing to inflect
        label = humanize(" ".join(words))
        return label, label
    one = singularize(last)
    singular = humanize(" ".join([*head, one]))
    plural = humanize(" ".join([*head, pluralize(one)]))
    return singular, plural
