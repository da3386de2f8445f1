"""The LLM Generator-Discriminator stage (WaveCoder steps 5-9): task assignment, generation,
rule post-filter, judgement, the example database, and the Hub-ready dataset folder.

Modules import distilabel lazily where they can: `pipeline.recipe` imports `config` from here.
"""
