"""The swarm's domain: goals and tasks, their states and legal moves, how workflows and inboxes
are addressed, and the messages between workflows. Pure: no I/O, nothing below it imported."""
