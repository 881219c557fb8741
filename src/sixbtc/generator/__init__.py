"""Strategy generator stage (SPEC §3.2): genomes of indicator blocks rendered to source.

Public API: :func:`generate`, :class:`GenerationResult`, :func:`normalise`,
:func:`code_hash`, :func:`render`, :func:`random_genome`, :func:`make_genome`.
"""

from sixbtc.generator.dedupe import code_hash, normalise
from sixbtc.generator.factory import GenerationResult, generate, make_genome, random_genome
from sixbtc.generator.render import class_name_for, render

__all__ = [
    "GenerationResult",
    "class_name_for",
    "code_hash",
    "generate",
    "make_genome",
    "normalise",
    "random_genome",
    "render",
]
