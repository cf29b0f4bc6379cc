"""The agents' roles, each in its own module with its prompt and its product: the planner (a
plan), the worker (a change in its worktree); the judge and the conflict reconciler take the
same shape. Every role runs in the one generic session of `app.agent.session`."""
