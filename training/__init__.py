"""TRL SFT (+PEFT) recipes and the training script that turn CodeOcean into WaveCoder checkpoints."""
