"""OFeli's password rule (docs/security.md says why).

The guide: at least 8 characters with one uppercase letter and one special character.
CNIL 2022 (case 2: password plus a restriction of access) asks for 8 characters from at
least 3 of the 4 kinds, so we also require a lowercase letter or a digit. Django's
similarity and common-password validators run beside this one. Long passphrases and
accented characters are accepted: any letter that is not ASCII counts as a letter of its
case, any other non-alphanumeric character as special.
"""

import unicodedata
from dataclasses import dataclass
from functools import cache

from django.contrib.auth.password_validation import CommonPasswordValidator
from django.core.exceptions import ValidationError

MIN_LENGTH = 8


@dataclass(frozen=True)
class Rule:
    code: str
    message: str

    def check(self, password: str) -> bool:
        return RULE_CHECKS[self.code](password)


def _is_special(ch: str) -> bool:
    return not ch.isalnum()


RULE_CHECKS = {
    "length": lambda p: len(p) >= MIN_LENGTH,
    "upper": lambda p: any(c.isupper() for c in p),
    "special": lambda p: any(_is_special(c) for c in p),
    "lower_or_digit": lambda p: any(c.islower() or c.isdigit() for c in p),
}

RULES = [
    Rule("length", f"Le mot de passe doit contenir au moins {MIN_LENGTH} caractères."),
    Rule("upper", "Le mot de passe doit contenir au moins une lettre majuscule."),
    Rule("special", "Le mot de passe doit contenir au moins un caractère spécial (par exemple ! ? @ # - _)."),
    Rule("lower_or_digit", "Le mot de passe doit contenir au moins une lettre minuscule ou un chiffre."),
]


def failed_rules(password: str) -> list[Rule]:
    return [rule for rule in RULES if not rule.check(password or "")]


# Common French words that people dress up with a capital, a digit and a "!" to pass a rule
# like ours (Django's list, in English mostly, covers the rest).
MOTS_COURANTS_FR = {
    "azerty",
    "azertyuiop",
    "motdepasse",
    "bonjour",
    "soleil",
    "marseille",
    "doudou",
    "loulou",
    "chouchou",
    "jetaime",
    "coucou",
    "chocolat",
    "bisous",
    "amour",
    "mamour",
    "maison",
    "voiture",
    "papillon",
    "princesse",
    "nounours",
    "famille",
    "bonheur",
    "liberte",
    "france",
    "paris",
    "toulouse",
    "bordeaux",
    "bretagne",
    "formation",
    "formations",
    "ofeli",
    "organisme",
    "stagiaire",
    "bienvenue",
    "secret",
    "admin",
    "utilisateur",
}
MOTS_COURANTS_MIN = 4
MESSAGE_MOT_COURANT = (
    "Ce mot de passe est trop facile à deviner : il repose sur un mot ou un prénom courant complété de chiffres "
    "ou de caractères spéciaux."
)


@cache
def _mots_courants() -> frozenset[str]:
    return frozenset(CommonPasswordValidator().passwords | MOTS_COURANTS_FR)


def base_du_mot_de_passe(password: str) -> str:
    """The letters of a password, lowercased and unaccented: "Soleil-2026!" -> "soleil"."""
    decomposed = unicodedata.normalize("NFKD", password or "")
    return "".join(c for c in decomposed if c.isalpha() and not unicodedata.combining(c)).lower()


def repose_sur_un_mot_courant(password: str) -> bool:
    base = base_du_mot_de_passe(password)
    return len(base) >= MOTS_COURANTS_MIN and base in _mots_courants()


class OfeliPasswordValidator:
    def validate(self, password, user=None):
        errors = [ValidationError(rule.message, code=f"password_{rule.code}") for rule in failed_rules(password)]
        if not errors and repose_sur_un_mot_courant(password):
            errors.append(ValidationError(MESSAGE_MOT_COURANT, code="password_common_base"))
        if errors:
            raise ValidationError(errors)

    def get_help_text(self):
        return (
            f"Au moins {MIN_LENGTH} caractères, dont une majuscule, un caractère spécial "
            "et une minuscule ou un chiffre."
        )
