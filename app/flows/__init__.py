"""DBOS workflows and steps: the only long-lived logic. `app.events.dispatch` loads them all."""
