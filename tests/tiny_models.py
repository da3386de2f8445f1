"""Tiny local models for tests: a byte-level BPE tokenizer trained in the test and a randomly
initialised Llama-shaped causal LM built from a config, so nothing is downloaded.

    tokenizer = bpe_tokenizer(texts, vocab_size=400, unk_token="<unk>", add_bos=True)
    folder = tiny_llama(tmp_path / "model", tokenizer)  # model + tokenizer, loadable by path

Special tokens get the first ids in a fixed order: `unk_token` (if any), `bos_token`,
`eos_token`, `pad_token` (if any); e.g. `<unk>`=0, `<s>`=1, `</s>`=2, `<pad>`=3.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast

# Every byte is a base token, so no text ever needs `unk_token`: a vocab of this many tokens plus
# the special ones has no merges at all (each byte one token), whatever the texts.
BYTE_ALPHABET_SIZE = 256


def bpe_tokenizer(
    texts: Iterable[str],
    *,
    vocab_size: int,
    bos_token: str = "<s>",
    eos_token: str = "</s>",
    unk_token: str | None = None,
    pad_token: str | None = None,
    add_bos: bool = False,
    chat_template: str | None = None,
) -> PreTrainedTokenizerFast:
    """A byte-level BPE tokenizer trained on `texts` up to `vocab_size` tokens (special tokens and
    the 256 byte tokens included; `vocab_size <= len(specials) + 256` gives no merges, and
    `texts` may then be empty).

    `add_bos=True` adds a post-processor that puts BOS before every encoded text, as most code
    models' tokenizers do (the default adds nothing, like a plain base tokenizer).
    `chat_template` is set as the tokenizer's Jinja chat template (None: no template).
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    specials = [t for t in (unk_token, bos_token, eos_token, pad_token) if t is not None]
    bpe = Tokenizer(models.BPE(unk_token=unk_token))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        # The whole byte alphabet, not only the bytes the texts use: any text then encodes.
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    bpe.train_from_iterator(list(texts), trainer)
    if add_bos:
        bpe.post_processor = processors.TemplateProcessing(
            single=f"{bos_token} $A",
            pair=f"{bos_token} $A {bos_token} $B",
            special_tokens=[(bos_token, bpe.token_to_id(bos_token))],
        )
    # Only the roles that are set: an explicit None is saved as `"unk_token": null`.
    roles = {"unk_token": unk_token, "pad_token": pad_token}
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        bos_token=bos_token,
        eos_token=eos_token,
        **{role: token for role, token in roles.items() if token is not None},
    )
    tokenizer.chat_template = chat_template
    return tokenizer


def tiny_llama(
    folder: Path,
    tokenizer: PreTrainedTokenizerFast,
    *,
    hidden_size: int = 32,
    intermediate_size: int = 64,
    layers: int = 2,
    heads: int = 4,
    kv_heads: int | None = None,
    max_positions: int = 1024,
    tie_word_embeddings: bool = False,
    seed: int = 0,
) -> Path:
    """A randomly initialised `LlamaForCausalLM` sized for `tokenizer` (its vocab and its BOS,
    EOS and pad ids), saved with the tokenizer to `folder`; returns `folder`.

    `kv_heads=None` means one KV head per attention head (no grouped-query attention). The
    weights are drawn after `torch.manual_seed(seed)`, so a test sees the same model every run;
    this seeds torch's global generator, as `torch.manual_seed` does.
    """
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=intermediate_size,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=heads if kv_heads is None else kv_heads,
        max_position_embeddings=max_positions,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=tie_word_embeddings,
    )
    torch.manual_seed(seed)
    folder = Path(folder)
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
