"""Command palette provider: the main actions of every screen, searchable by name."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

# (title, help, tab, pane action or None to only show the tab)
COMMANDS = (
    ("Data: show", "Switch to the Data screen (1)", "data", None),
    ("Data: load", "Find and load SST2 from the path field, $BERTSENT_DATA, the cache or a download", "data", "load"),
    ("Embed: show", "Switch to the Embed screen (2)", "embed", None),
    ("Embed: start or resume", "Embed the sentences; cached batches are reused", "embed", "start"),
    ("Train: show", "Switch to the Train screen (3)", "train", None),
    ("Train: run", "Fit logistic regression on the embeddings, or fine-tune (the Mode field)", "train", "train"),
    ("Train: add the TF-IDF baseline", "TF-IDF + logistic regression on the same split", "train", "baseline"),
    ("Train: runs or mistakes", "Show the run history or the misclassified sentences", "train", "toggle_runs"),
    ("Train: save the model", "Save the trained model to the folder in the Save field", "train", "save"),
    ("Predict: show", "Switch to the Predict screen (4)", "predict", None),
    ("Predict: load a saved model", "Load the model folder typed in the Model field", "predict", "load_model"),
    ("Inside: show", "Switch to the Inside screen (5)", "inside", None),
    ("Inside: run the layer probe", "A classifier on each layer alone, [CLS] and mean pooling", "inside", "probe"),
    ("Inside: map the test sentences", "2-D map of the test sentences with the model in use", "inside", "map"),
    ("Inside: attention", "Every layer's and head's attention weights for one sentence", "inside", "attention"),
    ("Cancel running work", "Stop loading, embedding or training (Esc)", None, "cancel"),
)


class BertsentCommands(Provider):
    """Exposes :data:`COMMANDS` in the palette (ctrl+p)."""

    def _callbacks(self):
        for title, help_text, tab, action in COMMANDS:
            yield title, help_text, partial(self.app.run_command, tab, action)

    async def discover(self) -> Hits:
        for title, help_text, callback in self._callbacks():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._callbacks():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)
