"""Model providers: `make_model("provider/model")` and the neutral vocabulary in `types`."""

from app.llm.factory import make_model

__all__ = ["make_model"]
