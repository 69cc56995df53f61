"""The mind: dialogue, persona, LLM backends (memory, skills and safeguards grow here)."""
