"""Readable names for runs that were not given one: ``brave-owl-042``."""

from __future__ import annotations

import secrets

ADJECTIVES = (
    "agile", "amber", "ancient", "bold", "brave", "bright", "calm", "clever", "cosmic",
    "crimson", "curious", "daring", "dazzling", "eager", "elegant", "fearless", "fierce",
    "gentle", "gilded", "glowing", "golden", "graceful", "happy", "hidden", "humble",
    "jolly", "keen", "kind", "lively", "lucky", "lunar", "mellow", "merry", "mighty",
    "misty", "nimble", "noble", "patient", "polar", "proud", "quick", "quiet", "rapid",
    "rustic", "serene", "sharp", "shiny", "silent", "silver", "smooth", "solar", "spry",
    "steady", "stellar", "stormy", "sunny", "swift", "tidy", "tranquil", "vivid", "wise",
    "witty", "zealous", "zesty",
)  # fmt: skip

NOUNS = (
    "albatross", "badger", "bear", "beaver", "bison", "cheetah", "cobra", "condor",
    "crane", "dolphin", "eagle", "falcon", "ferret", "finch", "fox", "gazelle", "gecko",
    "heron", "hawk", "ibis", "jaguar", "kestrel", "koala", "lemur", "leopard", "lion",
    "lynx", "marmot", "marten", "mole", "moose", "newt", "ocelot", "orca", "osprey",
    "otter", "owl", "panda", "panther", "pelican", "penguin", "puffin", "quail", "rabbit",
    "raven", "robin", "salmon", "seal", "shark", "sparrow", "stork", "swan", "tiger",
    "toucan", "turtle", "viper", "walrus", "whale", "wolf", "wombat", "wren", "yak",
    "zebra",
)  # fmt: skip


def generate_run_name() -> str:
    """An adjective, an animal and three digits, drawn at random."""
    adjective = secrets.choice(ADJECTIVES)
    noun = secrets.choice(NOUNS)
    return f"{adjective}-{noun}-{secrets.randbelow(1000):03d}"
