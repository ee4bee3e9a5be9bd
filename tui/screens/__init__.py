"""One pane per tab: Data, Embed, Train, Predict."""
