"""Package data: the download manifests of the datasets bertsent knows (read with importlib.resources)."""
