"""DBOS workflows and steps: the only long-lived logic. `app.flows.registry` loads them all."""
