"""The Gradio Space: browse CodeOcean and try a WaveCoder model."""
