"""The one SavedModel export path: models declare their endpoints, `export_saved_model` writes them."""

from kerasts.export.saved_model import Endpoint, ServingEndpointsMixin, export_saved_model, serving_endpoints

__all__ = ["Endpoint", "ServingEndpointsMixin", "export_saved_model", "serving_endpoints"]
