"""The one SavedModel export path: models declare their endpoints, `export_saved_model` writes them
(`export_litert` converts them to LiteRT); `load_model`, `load_saved_model` and `load_litert` read what
kerasts saved, naming a damaged file."""

from kerasts.export.litert import export_litert, load_litert
from kerasts.export.loading import load_model, load_saved_model
from kerasts.export.saved_model import Endpoint, ServingEndpointsMixin, export_saved_model, serving_endpoints

__all__ = ["Endpoint", "ServingEndpointsMixin", "export_litert", "export_saved_model", "load_litert", "load_model",
           "load_saved_model", "serving_endpoints"]
