"""Raw code -> CodeOcean: corpus loading, rule filters, embeddings, KCenterGreedy selection,
LLM generation and judgement, built on distilabel."""
