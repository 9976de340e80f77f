import pytest

from ofeli.referentiels import loaders


@pytest.fixture
def referentiels(db):
    """The shipped referentials a form needs (without Certif Info) and the project's Formacode and RNCP/RS samples."""
    loaders.regions_charger()
    loaders.communes_charger()
    loaders.nsf_charger()
    loaders.rome_charger()
    loaders.formacode_charger(path=loaders.FORMACODE_SAMPLE)
    loaders.certifications_charger(paths=[loaders.RNCP_SAMPLE], blocs_path=loaders.RNCP_BLOCS_SAMPLE)
