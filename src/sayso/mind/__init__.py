"""The mind: dialogue and persona, memory, local skills, companion safeguards and LLM backends.

``sayso.mind.mind.Mind`` decides each reply: safety screen, then a local skill, else the LLM.
"""
