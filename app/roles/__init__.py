"""The agents' roles, each in its own module with its prompt and its product: the planner (a
plan), the worker (a change in its worktree), the judge (a verdict on a change), the goal's
checker (a finished goal checked against the base branch); the conflict reconciler takes the same
shape. Every role runs in the one generic session of `app.agent.session`."""
