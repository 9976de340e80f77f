import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from ofeli.accounts.passwords import RULES, OfeliPasswordValidator, failed_rules


def codes(password):
    return [rule.code for rule in failed_rules(password)]


@pytest.mark.parametrize(
    ("password", "failed"),
    [
        ("", ["length", "upper", "special", "lower_or_digit"]),
        ("Ab-1", ["length"]),
        ("motdepasse-long-1", ["upper"]),
        ("MotDePasseLong1", ["special"]),
        ("MOT-DE-PASSE!!", ["lower_or_digit"]),
        ("MOT-DE-PASSE-1", []),  # upper + special + digit: 3 of the 4 kinds
        ("Motdepasse!", []),  # upper + special + lower
        ("Été-à-Orléans", []),  # accented letters count as letters of their case
        ("ÉCOLE-ÉTÉ-ÇA", ["lower_or_digit"]),
        ("Le chat de Tours mange des souris", []),  # a long passphrase: the spaces are special characters
    ],
)
def test_each_rule(password, failed):
    assert codes(password) == failed


def test_validator_raises_one_french_message_per_failed_rule():
    with pytest.raises(ValidationError) as exc:
        OfeliPasswordValidator().validate("abc")
    messages = exc.value.messages
    assert messages == [
        "Le mot de passe doit contenir au moins 8 caractères.",
        "Le mot de passe doit contenir au moins une lettre majuscule.",
        "Le mot de passe doit contenir au moins un caractère spécial (par exemple ! ? @ # - _).",
    ]
    assert {e.code for e in exc.value.error_list} == {"password_length", "password_upper", "password_special"}


def test_every_rule_has_its_own_message():
    assert len({rule.message for rule in RULES}) == len(RULES) == 4


def test_help_text_is_french():
    assert "Au moins 8 caractères" in OfeliPasswordValidator().get_help_text()


@pytest.mark.django_db
@pytest.mark.parametrize("password", ["P@ssw0rd", "Sunshine!"])
def test_common_passwords_are_refused_by_the_configured_validators(password):
    with pytest.raises(ValidationError) as exc:
        validate_password(password)
    assert "Ce mot de passe est trop courant." in exc.value.messages


@pytest.mark.django_db
def test_long_accented_passphrase_passes_all_configured_validators():
    validate_password("Ma formation à Châteauroux commence en septembre")


@pytest.mark.parametrize("password", ["Azerty123!", "Soleil-2026", "Motdepasse!", "Nathalie1975!", "S.u.n.s.h.i.n.e.1"])
def test_common_word_dressed_up_is_refused(password):
    assert failed_rules(password) == []
    with pytest.raises(ValidationError) as exc:
        OfeliPasswordValidator().validate(password)
    assert [e.code for e in exc.value.error_list] == ["password_common_base"]
    assert "trop facile à deviner" in exc.value.messages[0]


@pytest.mark.parametrize("password", ["Le soleil de Tours, 2026", "Xq7!mK2#", "Orléans-Été-Bourges"])
def test_uncommon_passwords_pass(password):
    OfeliPasswordValidator().validate(password)


@pytest.mark.django_db
def test_64_characters_and_more_and_unicode_are_accepted():
    validate_password("Une très longue phrase de passe, pour OFeli, qui dépasse soixante-quatre caractères !")
    validate_password("Ça-va-Zoë-ß-2026")
    validate_password("密码Пароль-Zx9")
