"""``bertsent``: the command line for scripts, over ``bertsent.core``.

Kept apart from the Textual app: nothing in this package imports Textual (an import-linter
contract and a ``sys.modules`` test check it). Heavy imports (torch, transformers, scikit-learn,
rich) happen inside commands so that ``bertsent --help`` stays instant.
"""
