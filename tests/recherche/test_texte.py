import sqlite3

from hypothesis import given
from hypothesis import strategies as st

from ofeli.recherche.texte import mots, normaliser, requete_fts5


def test_accents_case_and_plurals_give_the_same_stems():
    assert mots("Soudures") == mots("soudure")
    assert mots("ÉLECTRICITÉ") == mots("electricite")
    assert mots("Formations") == mots("FORMATION")
    assert mots("chevaux") == mots("cheval")


def test_ligatures_and_stop_words():
    assert normaliser("Main-d'œuvre de la ville") == normaliser("main d oeuvre ville")
    assert mots("de la des du à") == []


def test_query_syntax_like_websearch():
    assert requete_fts5("soudures arc") == '"soudur" AND "arc"'
    assert requete_fts5("soudure or électricité") == '("soudur" OR "electricit")'
    assert requete_fts5('"soudure à l\'arc" -tig') == '"soudur arc" NOT "tig"'
    assert requete_fts5("de la") == ""
    assert requete_fts5("-soudure") == ""


@given(st.text(max_size=80))
def test_no_input_makes_an_fts5_syntax_error(saisie):
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE VIRTUAL TABLE t USING fts5(a, tokenize = 'unicode61 remove_diacritics 2')")
    connection.execute("INSERT INTO t (a) VALUES (?)", (normaliser("Soudure à l'arc et électricité"),))
    requete = requete_fts5(saisie)
    if requete:
        connection.execute("SELECT rowid FROM t WHERE t MATCH ?", (requete,)).fetchall()
    connection.close()
