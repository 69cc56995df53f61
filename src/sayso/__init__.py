"""Sayso: a private, voice-first assistant that only speaks in voices people said yes to."""

import os

# Libraries that load models draw progress bars ("Loading weights: 100%|████") on the terminal
# the conversation is in, over the `you>` prompt. Sayso only loads models shipped inside
# packages, so there is no download worth watching: the bars are turned off here, where every
# door starts (the CLI, the server, a program using Sayso), before any of those libraries is
# imported (each reads these once, on import). A value the user set is kept.
for _name, _value in (
    ("HF_HUB_DISABLE_PROGRESS_BARS", "1"),  # huggingface_hub, and transformers' bars ("Loading weights")
    ("TQDM_DISABLE", "1"),  # any other tqdm bar (sentence-transformers' "Batches")
    ("TRANSFORMERS_VERBOSITY", "error"),  # load-time advice printed on stderr
):
    os.environ.setdefault(_name, _value)

__version__ = "0.1.0"
