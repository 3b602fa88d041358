"""The one SavedModel export path: models declare their endpoints, `export_saved_model` writes them;
`load_model` and `load_saved_model` read what kerasts saved, naming a damaged file."""

from kerasts.export.loading import load_model, load_saved_model
from kerasts.export.saved_model import Endpoint, ServingEndpointsMixin, export_saved_model, serving_endpoints

__all__ = ["Endpoint", "ServingEndpointsMixin", "export_saved_model", "load_model", "load_saved_model",
           "serving_endpoints"]
