"""The LLM Generator-Discriminator stage (WaveCoder steps 5-9): prompts, generation, rule
post-filter, judgement, the example database, and the Hub-ready dataset folder.

Its distilabel steps (`AssignCodeTask`, `GenerateAndJudge`) are in `pipeline.steps`;
`main_process` is the command's work before and after the pipeline. What the main process imports
before a pipeline is built (`config`, `llm_access`, `run_state`, `main_process`, `writer`) does
not import distilabel, so that a bad input fails in about a second.
"""
