"""The demo marketplace of ``hojre demo``: our own Persian word lists and the seeded generator.

Nothing here is copied from real listings: names, titles, descriptions and comments are built
from the short word and phrase lists of :mod:`.words` and :mod:`.phrases`, people's names and
street names come from Faker's ``fa_IR`` locale.
"""
