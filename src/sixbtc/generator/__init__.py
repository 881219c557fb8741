"""Strategy generator stage (SPEC §3.2): genomes of indicator blocks rendered to source.

Sources: ``template`` (:mod:`.templates`), ``unger`` (:mod:`.unger`), ``pattern``
(:mod:`.patterns`); children of stored genomes by mutation and crossover in
:mod:`.evolution` (:func:`~sixbtc.generator.evolution.generate_mixed`).

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
