"""Model registry: one file per paper, each variant registered under the name `params.yaml`'s
`model` selects. Importing this package registers every model."""
from models.registry import create_model, input_rank, list_models, register_model, require_registered  # noqa: F401
from models import baselines, emonet  # noqa: F401  (registers)
