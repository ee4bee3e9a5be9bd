"""The bottom layer: the error hierarchy, atomic files, strict JSON, the declarative schema, where
bertsent keeps its files, and the small rules every layer shares (what is a sentence, the decision
rule, the C grid, token-score steps). Imports nothing of bertsent's."""
