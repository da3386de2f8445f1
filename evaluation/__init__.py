"""HumanEval, MBPP and HumanEvalPack: generation, sandboxed execution and pass@k."""
