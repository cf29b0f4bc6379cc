"""Every handler the swarm has, composed in one place."""

from app.events import gating, goals, installations, steering
from app.events.router import Router

ROUTER = Router()
ROUTER.include(installations.router)
ROUTER.include(goals.router)
ROUTER.include(steering.router)
ROUTER.include(gating.router)
